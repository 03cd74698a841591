"""Pruning held candidates from the outbox, from the playbooks' point of view: how long each
playbook can still need a held row (its reach), batches of one transaction each, an audit
entry. The engine runs `prune_outbox` on its schedule; `relmark outbox-prune` runs it once.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from relmark.errors import InvalidInput
from relmark.interact.catch_up import MAX_CATCH_UP_DAYS
from relmark.interact.playbook import Playbook, TriggerKind
from relmark.store import audit, outbox, pruning
from relmark.store.audit import Actor
from relmark.store.db import bulk_transaction

if TYPE_CHECKING:
    from relmark.interaction import Interaction

#: Room for a plan run late (after an outage, or `plan --as-of` weeks back) to still produce
#: an occasion a held row already decided: the planner catches up at most this far, + a day.
LATE_MARGIN = timedelta(days=MAX_CATCH_UP_DAYS + 1)
#: Rows deleted per transaction: SQLite's write lock is never held for long.
BATCH = 50_000


def reach_of(book: Playbook) -> timedelta:
    """How long after a held row's due time a plan may still need it.

    Order and first-purchase occasions come back while the order is inside the playbook's
    window (delay, then `late_until`); dates only on the day; score triggers read every
    row of the repeat window. A margin covers plans run late."""
    trigger = book.trigger
    if trigger.on in (
        TriggerKind.ORDER,
        TriggerKind.FIRST_PURCHASE_WITH_HOWTO,
        TriggerKind.TIER_CHANGED,
    ):
        window = timedelta(days=trigger.delay_days + trigger.late_days)
    elif trigger.on is TriggerKind.SCORE:
        window = timedelta(days=book.repeat_after_days + 1)
    else:
        window = timedelta(days=2)
    return window + LATE_MARGIN


@dataclass
class PruneReport:
    older_than_days: int
    pruned: int
    by_run: list[dict[str, Any]] = field(default_factory=list)
    """What this call pruned, per plan run, playbook and reason."""


def prune_outbox(
    relmark: Interaction,
    now: datetime,
    older_than: timedelta | None = None,
    *,
    actor: Actor | None = None,
    dry_run: bool = False,
) -> PruneReport:
    """Prune held rows older than `older_than` (default: the configured
    RELMARK_OUTBOX_PRUNE_AFTER_DAYS) and beyond their playbook's reach."""
    age = older_than or timedelta(days=relmark.settings.outbox_prune_after_days)
    if age < timedelta(days=1):
        raise InvalidInput.single("older than", "held rows are pruned after a day at the earliest")
    reach = {book.name: reach_of(book) for book in relmark.playbooks()}
    report = PruneReport(age.days, 0)
    counted: Counter[tuple[int | None, str, str | None]] = Counter()
    while True:
        with bulk_transaction(relmark.engine) as connection:
            outbox.lock_budget(connection, now)  # no planner reads keys while rows go
            batch = pruning.prune_held_counted(
                connection, age, now, reach=reach, limit=None if dry_run else BATCH
            )
            done = sum(batch.values())
            if dry_run:
                connection.rollback()
            elif done:
                audit.record(
                    connection,
                    actor or Actor.cli(),
                    "outbox.prune",
                    detail={"rows": done, "older_than_days": age.days},
                    at=now,
                )
        counted.update(batch)
        if dry_run or done < BATCH:
            break
    report.pruned = sum(counted.values())
    report.by_run = [
        {"plan_run_id": run, "playbook": playbook, "reason": reason, "count": n}
        for (run, playbook, reason), n in sorted(
            counted.items(), key=lambda item: (item[0][0] or 0, item[0][1], item[0][2] or "")
        )
    ]
    return report
