"""Pruning the outbox: held candidates are deleted after a while, their counts kept.

One plan over a million customers holds some 424k candidates (no consent, outside the
audience, over the budget). Their rows say why nobody was written to; after a few months
the counts say it as well. A held row goes only when nothing can need it again:

- its idempotency key must no longer be needed: a held row is what stops the planner from
  deciding the same occasion twice (existing keys) and, for score-triggered playbooks, from
  deciding a customer again within the repeat window (any row of the window counts). So a
  row of playbook P goes only when it is older than P's *reach*: how long after its due
  time a plan can still produce its occasion or read it for the repeat window. Rows held
  for a passing reason (caps, spacing, budget, missing scores) never block re-planning:
  they go at the plain age;
- control-group rows stay: the uplift report compares them with the messages sent;
- rows with message events stay (nothing should have any, but an event names its row).

Each deleted row is counted by plan run, playbook and reason in `pruned_messages`, inside the
same transaction as the delete (counted from what the DELETE returned, so the counts and the
deletion cannot disagree).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    delete,
    exists,
    func,
    insert,
    not_,
    or_,
    select,
)

from relmark.store.models import Message, MessageEvent, PlanRun, PrunedMessages
from relmark.store.outbox import TRANSIENT_REASONS

#: Held for this reason, a row is evidence the uplift report needs: never pruned.
KEPT_REASONS = ("control_group",)


def prune_held(
    connection: Connection,
    older_than: timedelta,
    now: datetime,
    *,
    reach: Mapping[str, timedelta],
    limit: int | None = None,
) -> int:
    """Delete held rows due more than `older_than` before `now`; see `prune_held_counted`.
    Returns rows deleted."""
    counts = prune_held_counted(connection, older_than, now, reach=reach, limit=limit)
    return sum(counts.values())


def prune_held_counted(
    connection: Connection,
    older_than: timedelta,
    now: datetime,
    *,
    reach: Mapping[str, timedelta],
    limit: int | None = None,
) -> Counter[tuple[int | None, str, str | None]]:
    """Delete held rows due more than `older_than` before `now` (and beyond their
    playbook's `reach`); count them per plan run in `pruned_messages`. At most `limit`
    rows per call (callers loop, one transaction per batch). Returns what was deleted,
    counted by (plan run, playbook, reason).

    `reach` is required: without each playbook's reach a score-triggered playbook could
    decide a customer again before its repeat window ends. A playbook missing from it (no
    longer configured) is pruned at the plain age."""
    if older_than <= timedelta(0):
        raise ValueError("older_than must be positive")
    m = Message.__table__.c
    cutoff = now - older_than
    by_cutoff: dict[datetime, list[str]] = {}
    for name, extra in reach.items():
        by_cutoff.setdefault(min(cutoff, now - extra), []).append(name)
    due = [
        and_(m.reason.in_(TRANSIENT_REASONS), m.due_at < cutoff),
        and_(m.playbook.not_in(list(reach)), m.due_at < cutoff),
        *(and_(m.playbook.in_(names), m.due_at < when) for when, names in by_cutoff.items()),
    ]
    prunable = (
        select(m.id)
        .where(
            m.status == "held",
            or_(m.reason.is_(None), m.reason.not_in(KEPT_REASONS)),
            or_(*due),
            not_(exists().where(MessageEvent.message_id == m.id)),
        )
        .order_by(m.id)
    )
    if limit is not None:
        prunable = prunable.limit(limit)
    deleted = connection.execute(
        delete(Message)
        .where(Message.id.in_(prunable))
        .returning(Message.plan_run_id, Message.playbook, Message.reason)
    ).all()
    counts = Counter((run, playbook, reason) for run, playbook, reason in deleted)
    if counts:
        connection.execute(
            insert(PrunedMessages),
            [
                {
                    "plan_run_id": run,
                    "playbook": playbook,
                    "reason": reason,
                    "count": n,
                    "pruned_at": now,
                }
                for (run, playbook, reason), n in sorted(counts.items(), key=_order)
            ],
        )
    return counts


def _order(item: tuple[tuple[Any, str, Any], int]) -> tuple[int, str, str]:
    (run, playbook, reason), _ = item
    return (-1 if run is None else int(run), playbook, reason or "")


def pruned_counts(connection: Connection, plan_run_id: int | None = None) -> list[dict[str, Any]]:
    """Pruned held rows per plan run, playbook and reason, with the run's as-of time;
    oldest run first."""
    p = PrunedMessages.__table__.c
    statement = (
        select(
            p.plan_run_id,
            PlanRun.as_of,
            p.playbook,
            p.reason,
            func.sum(p.count).label("count"),
            func.max(p.pruned_at).label("pruned_at"),
        )
        .select_from(PrunedMessages.__table__.outerjoin(PlanRun, PlanRun.id == p.plan_run_id))
        .group_by(p.plan_run_id, PlanRun.as_of, p.playbook, p.reason)
        .order_by(p.plan_run_id, p.playbook, p.reason)
    )
    if plan_run_id is not None:
        statement = statement.where(p.plan_run_id == plan_run_id)
    return [dict(r) | {"count": int(r["count"])} for r in connection.execute(statement).mappings()]


def pruned_totals(connection: Connection) -> list[dict[str, Any]]:
    """Every pruned held row, by playbook and reason, as rows like `outbox_counts`' (status
    `pruned`): the outbox's counts stay whole after pruning."""
    p = PrunedMessages.__table__.c
    rows = connection.execute(
        select(p.playbook, p.reason, func.sum(p.count))
        .group_by(p.playbook, p.reason)
        .order_by(p.playbook, p.reason)
    )
    return [{"playbook": b, "status": "pruned", "reason": r, "count": int(n)} for b, r, n in rows]


def held_counts(connection: Connection, plan_run_id: int) -> dict[str, dict[str, int]]:
    """A plan run's held decisions, playbook → reason → count: the rows still in the outbox
    and the pruned ones together."""
    m = Message.__table__.c
    rows = connection.execute(
        select(m.playbook, m.reason, func.count())
        .where(m.plan_run_id == plan_run_id, m.status == "held")
        .group_by(m.playbook, m.reason)
    ).all()
    found: dict[str, dict[str, int]] = {}
    for playbook, reason, n in rows:
        found.setdefault(playbook, {})[reason] = int(n)
    for row in pruned_counts(connection, plan_run_id):
        by_reason = found.setdefault(row["playbook"], {})
        by_reason[row["reason"]] = by_reason.get(row["reason"], 0) + row["count"]
    return found
