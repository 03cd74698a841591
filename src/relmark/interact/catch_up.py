"""Catching up after an outage: from where a plan decides missed occasions, and how a late
or expired one is marked so that an operator sees what the gap cost.

A plan decides every occasion since the previous plan over the whole store (bounded by the
maximum catch-up); one within its playbook's `late_until` goes out late with a note of when
it fell due, a later one is held `expired`, and a message planned before the gap but never
sent is held `expired` once past `late_until`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import polars as pl
from sqlalchemy import Connection

from relmark.interact import occasions
from relmark.interact.playbook import Playbook, TriggerKind
from relmark.store import outbox

if TYPE_CHECKING:
    from relmark.interact.planner import PlanOptions

#: After an outage, how far back a plan decides missed occasions (older ones are not
#: written at all, so years of imported history do not become years of `expired` rows).
MAX_CATCH_UP_DAYS = 60
#: A message that goes out at least this much after it fell due says so in its detail.
LATE_NOTE = timedelta(hours=1)


def span(connection: Connection, options: PlanOptions) -> occasions.Span:
    """From the previous whole-store plan (at most `max_catch_up_days` back) to now."""
    since = outbox.last_whole_plan(connection, options.as_of)
    if since is not None:
        since = max(since, options.as_of - timedelta(days=options.max_catch_up_days))
    return occasions.Span(options.as_of, since, options.ahead)


def held_as_expired(
    expired: pl.DataFrame, as_of: datetime, books: dict[str, Playbook]
) -> pl.DataFrame:
    """Occasions a gap left undecided past their playbook's `late_until`: held, with when
    they fell due and how late they would have been, so an operator sees what was lost."""
    late_until = pl.col("playbook").replace_strict(
        {name: b.trigger.late_days for name, b in books.items()}, return_dtype=pl.Int64
    )
    return expired.with_columns(
        pl.lit("held").alias("status"),
        pl.lit("expired").alias("reason"),
        pl.struct(
            pl.col("fell_due").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            late_days(as_of).alias("late_days"),
            late_until.alias("late_until"),
        )
        .struct.json_encode()
        .alias("detail"),
    )


def late_days(as_of: datetime) -> pl.Expr:
    return ((pl.lit(as_of) - pl.col("fell_due")).dt.total_minutes() / 1440).round(1)


def noted_if_late(decided: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    """A message going out late after a gap says when it fell due and how late it goes,
    in front of whatever else its detail holds."""
    if decided.is_empty():
        return decided
    if "detail" not in decided.columns:
        decided = decided.with_columns(pl.lit(None, dtype=pl.String).alias("detail"))
    note = pl.struct(
        pl.col("fell_due").dt.strftime("%Y-%m-%dT%H:%M:%SZ"), late_days(as_of).alias("late_days")
    ).struct.json_encode()
    late = pl.col("fell_due") <= pl.lit(as_of) - LATE_NOTE
    return decided.with_columns(
        pl.when(late & pl.col("detail").is_null())
        .then(note)
        .when(late)
        .then(pl.concat_str(note.str.strip_suffix("}"), pl.lit(","), pl.col("detail").str.slice(1)))
        .otherwise(pl.col("detail"))
        .alias("detail")
    )


def legacy_deadlines(options: PlanOptions) -> dict[str, datetime]:
    """Per event or date playbook, the due time before which an unsent message planned
    before messages carried their own deadline (`expires_at`) is too late to go."""
    return {
        b.name: options.as_of
        - timedelta(days=b.trigger.late_days + (1 if b.trigger.is_date else 0))
        for b in options.playbooks
        if b.trigger.on is not TriggerKind.SCORE
    }


def past_deadline(
    decided: pl.DataFrame, as_of: datetime, books: dict[str, Playbook]
) -> pl.DataFrame:
    """A message the quiet hours pushed past its deadline (a birthday decided late in the
    evening, deferred to the next morning) is held `expired` now, not planned to expire."""
    if decided.is_empty() or "status" not in decided.columns:
        return decided
    late = (pl.col("status") == "planned") & (pl.col("due_at") >= pl.col("expires_at"))
    late = late.fill_null(False)
    if not decided.select(late.any()).item():
        return decided
    expired = held_as_expired(decided.filter(late), as_of, books)
    return pl.concat([decided.filter(~late), expired], how="diagonal_relaxed")
