"""Erasure and the retention purge as whole acts, for the CLI, the API and the dashboard.

One transaction per person (the rows, the suppression entries, the event and the audit
entry commit together), then the files relmark wrote are cleaned: a file cannot roll back,
so it is touched only once the database says the person is gone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from relmark.store import audit, erasure, erasure_files, retention


def remember_file(engine: Engine, path: Path, now: datetime) -> None:
    """Commands that write personal data to a file or folder note it for later erasures."""
    with engine.begin() as connection:
        erasure_files.remember(connection, path, now)


def find(engine: Engine, reference: str) -> int:
    """The live customer id that a customer id or e-mail address names."""
    with engine.connect() as connection:
        return erasure.resolve(connection, reference)


def erase(
    engine: Engine, customer_id: int, *, actor: audit.Actor, reason: str, now: datetime
) -> dict[str, Any]:
    """Erase one person; counts per table and files cleaned (never the erased values)."""
    done = _erase_rows(engine, customer_id, actor=actor, reason=reason, now=now)
    return {**done.as_dict(), **_clean_files(engine, done.needles, done.external_ids)}


def _erase_rows(
    engine: Engine, customer_id: int, *, actor: audit.Actor, reason: str, now: datetime
) -> erasure.Erasure:
    with engine.begin() as connection:
        return erasure.erase(connection, customer_id, actor=actor, reason=reason, now=now)


def _clean_files(engine: Engine, needles: set[str], external_ids: set[str]) -> dict[str, int]:
    with engine.connect() as connection:
        files = erasure_files.known_files(connection)
    cleaned = erasure_files.scrub_files(files, needles, external_ids)
    return {"files_cleaned": len(cleaned), "file_rows_removed": sum(cleaned.values())}


@dataclass
class PurgePlan:
    """Who a purge erases: customers with no activity since `since`."""

    since: datetime
    customers: list[dict[str, Any]] = field(default_factory=list)


def plan_purge(engine: Engine, inactive_for: str, now: datetime) -> PurgePlan:
    since = retention.cutoff(now, inactive_for)
    with engine.connect() as connection:
        return PurgePlan(since, retention.inactive_customers(connection, since))


def purge(
    engine: Engine, plan: PurgePlan, *, actor: audit.Actor, inactive_for: str, now: datetime
) -> dict[str, Any]:
    """Erase every customer of the plan, one transaction each; the run is audited as a whole
    too (how many, the cut-off), each erasure on its own (per-table counts)."""
    reason = f"retention: no activity for {inactive_for} (since {plan.since.date().isoformat()})"
    totals: dict[str, int] = {}
    needles: set[str] = set()
    external_ids: set[str] = set()
    for row in plan.customers:
        done = _erase_rows(engine, row["customer_id"], actor=actor, reason=reason, now=now)
        needles |= done.needles
        external_ids |= done.external_ids
        for table, n in done.counts.items():
            totals[table] = totals.get(table, 0) + n
    totals |= _clean_files(engine, needles, external_ids)  # every file read once, for everyone
    with engine.begin() as connection:
        audit.record(
            connection,
            actor,
            "privacy.purge",
            detail={
                "inactive_for": inactive_for,
                "since": plan.since.isoformat(),
                "customers": len(plan.customers),
                "counts": totals,
            },
            at=now,
        )
    return {"erased": len(plan.customers), "since": plan.since.isoformat(), "counts": totals}
