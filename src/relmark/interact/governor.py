"""The contact-pressure governor: which candidates become messages, and why the others don't.

Every candidate ends with a status (`planned` or `held`) and, when it is not plain planned,
a machine-readable reason. Checks run in a fixed precedence, so a customer without consent
is reported as `no_consent` even if the cap was also full:

restricted → no_address → unsubscribed / no_consent → below_profitability → duplicate →
control_group → cap_7d / cap_30d / spacing → budget; planned messages that fell in quiet
hours are moved to the end of the quiet period (`quiet_hours_deferred`), never dropped.
Before all of these, an occasion that fell due longer ago than its playbook's `late_until`
(an outage, a late plan) is held as `expired` by the planner and never reaches the governor.

The caps are checked in rounds: each customer's best candidate first (priority, then due
time), against every live message due within the window on either side, then the next
candidate against those plus the ones just accepted. Counting both sides makes the check
safe for any rolling window that contains the new message.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import numpy as np
import polars as pl

from relmark.interact.policy import ContactPolicy

REASONS = (
    "expired",
    "restricted",
    "no_address",
    "unsubscribed",
    "no_consent",
    "below_profitability",
    "duplicate",
    "control_group",
    "cap_7d",
    "cap_30d",
    "spacing",
    "budget",
    "quiet_hours_deferred",
)


def control_draw(playbook: str, customer_ids: pl.Series) -> pl.Series:
    """A stable pseudo-random number in [0, 1) per (playbook, customer): the same customer
    stays in (or out of) a playbook's control group across runs and machines."""
    salt = int.from_bytes(hashlib.sha256(playbook.encode()).digest()[:8], "little")
    with np.errstate(over="ignore"):
        z = customer_ids.to_numpy().astype(np.uint64) ^ np.uint64(salt)
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return pl.Series("draw", (z >> np.uint64(11)).astype(np.float64) / float(1 << 53))


def defer_quiet_hours(frame: pl.DataFrame, policy: ContactPolicy) -> pl.DataFrame:
    """Move due times that fall in the customer's quiet hours to the end of them."""
    if not policy.quiet or frame.is_empty():
        return frame.with_columns(pl.lit(False).alias("deferred"))
    start = policy.quiet_start.hour * 60 + policy.quiet_start.minute
    end = policy.quiet_end.hour * 60 + policy.quiet_end.minute
    parts = []
    for (zone,), group in frame.group_by("zone", maintain_order=True):
        local = pl.col("due_at").dt.convert_time_zone(str(zone))
        minute = local.dt.hour().cast(pl.Int32) * 60 + local.dt.minute().cast(pl.Int32)
        quiet = (
            (minute >= start) | (minute < end)
            if start > end
            else (minute >= start) & (minute < end)
        )
        # Minutes to wait until the quiet period ends (next day when it ends after midnight).
        wait = pl.when(minute >= end).then(24 * 60 - minute + end).otherwise(end - minute)
        moved = local.dt.truncate("1m") + pl.duration(minutes=wait)
        parts.append(
            group.with_columns(
                pl.when(quiet)
                .then(moved.dt.convert_time_zone("UTC"))
                .otherwise(pl.col("due_at"))
                .alias("due_at"),
                quiet.alias("deferred"),
            )
        )
    return pl.concat(parts)


def decide(
    candidates: pl.DataFrame,
    history: pl.DataFrame,
    policy: ContactPolicy,
) -> pl.DataFrame:
    """Add `status`, `reason` and `detail` (JSON) to each candidate.

    `candidates` carries the candidate, its playbook's settings (purpose, channel, priority,
    cost, control_share, repeat_after_days) and the customer's facts (email, phone,
    restricted, consent, below_standard, clv_minor, zone). `history` is the live messages
    (customer_id, playbook, purpose, due_at) around the plan's time.
    """
    # defer_quiet_hours regroups rows by zone (in no fixed order): put them back in candidate
    # order, so a row's position is its `_row` again. `_control` relies on that: without it
    # each candidate got another row's control-group draw, different from run to run.
    frame = defer_quiet_hours(candidates.with_row_index("_row"), policy).sort("_row")
    frame = frame.with_columns(
        _duplicate(frame, history).alias("_duplicate"),
        _control(frame).alias("_control"),
    )
    transactional = pl.col("purpose") == "transactional"
    reason = (
        # Restriction (GDPR art. 18) is storage only: every purpose is held, transactional
        # too (order mail is the shop's own system's; relmark sends nothing on its behalf).
        pl.when(pl.col("restricted").fill_null(False))
        .then(pl.lit("restricted"))
        .when(
            ((pl.col("channel") == "email") & pl.col("email").is_null())
            | ((pl.col("channel") == "webhook") & pl.col("phone").is_null())
        )
        .then(pl.lit("no_address"))
        .when(~transactional & (pl.col("consent") == "withdrawn"))
        .then(pl.lit("unsubscribed"))
        .when((pl.col("purpose") == "marketing") & (pl.col("consent") != "granted").fill_null(True))
        .then(pl.lit("no_consent"))
        .when(
            pl.col("below_standard").fill_null(False)
            & (
                ~pl.col("cost").is_in(policy.below_standard_costs)
                | ~pl.col("channel").is_in(policy.below_standard_channels)
            )
        )
        .then(pl.lit("below_profitability"))
        .when(pl.col("_duplicate"))
        .then(pl.lit("duplicate"))
        .when(pl.col("_control"))
        .then(pl.lit("control_group"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    frame = frame.with_columns(reason.alias("reason"))
    frame = _caps(frame, history, policy)
    if policy.daily_budget is not None:
        frame = _budget(frame, policy)
    planned = pl.col("reason").is_null()
    return frame.with_columns(
        pl.when(planned).then(pl.lit("planned")).otherwise(pl.lit("held")).alias("status"),
        pl.when(planned & pl.col("deferred"))
        .then(pl.lit("quiet_hours_deferred"))
        .otherwise(pl.col("reason"))
        .alias("reason"),
    ).drop("_duplicate", "_control")


def _duplicate(frame: pl.DataFrame, history: pl.DataFrame) -> pl.Series:
    """Same playbook, same customer: a second candidate in this plan, or a live message
    within the playbook's repeat window."""
    later_in_batch = (
        frame.select(
            pl.int_range(pl.len()).over(
                ["playbook", "customer_id"], order_by=["due_at", "occasion"]
            )
            > 0
        )
        .to_series()
        .alias("later")
    )
    if history.is_empty():
        return later_in_batch
    near = (
        frame.select("_row", "playbook", "customer_id", "due_at", "repeat_after_days")
        .join(
            history.select("customer_id", "playbook", pl.col("due_at").alias("h_due")),
            on=["customer_id", "playbook"],
        )
        .filter(
            (pl.col("h_due") - pl.col("due_at")).abs()
            < pl.duration(days=pl.col("repeat_after_days").clip(lower_bound=1))
        )
        .select("_row")
        .unique()
    )
    in_history = frame["_row"].is_in(near["_row"].implode())
    return later_in_batch | in_history


def _control(frame: pl.DataFrame) -> pl.Series:
    draws = np.zeros(frame.height)
    for (playbook,), group in frame.select("_row", "playbook", "customer_id").group_by("playbook"):
        rows = group["_row"].to_numpy()
        draws[rows] = control_draw(str(playbook), group["customer_id"]).to_numpy()
    return pl.Series("control", draws) < frame["control_share"]


def _caps(frame: pl.DataFrame, history: pl.DataFrame, policy: ContactPolicy) -> pl.DataFrame:
    capped = pl.col("purpose").is_in(policy.capped_purposes)
    pending = frame.filter(pl.col("reason").is_null() & capped).with_columns(
        pl.int_range(pl.len())
        .over(
            "customer_id",
            order_by=[-pl.col("priority"), "due_at", "playbook", "occasion"],
        )
        .alias("_rank")
    )
    counted = history.filter(pl.col("purpose").is_in(policy.capped_purposes)).select(
        "customer_id", pl.col("due_at").alias("h_due")
    )
    week, month = timedelta(days=7), timedelta(days=30)
    gap = timedelta(hours=policy.min_hours_between)
    verdicts = []
    for rank in range(int(pending["_rank"].max() or 0) + 1 if pending.height else 0):
        current = pending.filter(pl.col("_rank") == rank).select("_row", "customer_id", "due_at")
        distance = (pl.col("h_due") - pl.col("due_at")).abs()
        near = (
            current.join(counted, on="customer_id", how="left")
            .group_by("_row")
            .agg(
                (distance < week).sum().alias("in_7_days"),
                (distance < month).sum().alias("in_30_days"),
                distance.min().alias("nearest"),
            )
        )
        verdict = near.with_columns(
            pl.when(pl.col("in_7_days") >= policy.max_per_7_days)
            .then(pl.lit("cap_7d"))
            .when(pl.col("in_30_days") >= policy.max_per_30_days)
            .then(pl.lit("cap_30d"))
            .when(pl.col("nearest").fill_null(timedelta.max) < gap)
            .then(pl.lit("spacing"))
            .otherwise(pl.lit(None, dtype=pl.String))
            .alias("cap_reason"),
            (pl.col("nearest").dt.total_minutes() / 60).round(1).alias("hours_to_nearest"),
        )
        verdicts.append(verdict.drop("nearest"))
        accepted = current.join(
            verdict.filter(pl.col("cap_reason").is_null()).select("_row"), on="_row"
        )
        counted = pl.concat(
            [counted, accepted.select("customer_id", pl.col("due_at").alias("h_due"))]
        )
    if not verdicts:
        return frame.with_columns(pl.lit(None, dtype=pl.String).alias("detail"))
    caps = pl.concat(verdicts)
    joined = frame.join(caps, on="_row", how="left")
    return joined.with_columns(
        pl.coalesce("reason", "cap_reason").alias("reason"),
        pl.when(pl.col("in_7_days").is_not_null())
        .then(pl.struct("in_7_days", "in_30_days", "hours_to_nearest").struct.json_encode())
        .otherwise(pl.lit(None, dtype=pl.String))
        .alias("detail"),
    ).drop("cap_reason", "in_7_days", "in_30_days", "hours_to_nearest")


def _budget(frame: pl.DataFrame, policy: ContactPolicy) -> pl.DataFrame:
    """When the plan's budget is short, the highest priority and then the highest CLV win."""
    capped = pl.col("purpose").is_in(policy.capped_purposes)
    order = (
        frame.filter(pl.col("reason").is_null() & capped)
        .sort(["priority", "clv_minor", "_row"], descending=[True, True, False], nulls_last=True)
        .select("_row")
        .with_row_index("_place")
    )
    over = order.filter(pl.col("_place") >= policy.daily_budget)["_row"]
    return frame.with_columns(
        pl.when(pl.col("_row").is_in(over.implode()))
        .then(pl.lit("budget"))
        .otherwise(pl.col("reason"))
        .alias("reason")
    )


def message_id(key: str, domain: str) -> str:
    """RFC 5322 Message-ID derived from the idempotency key: a resend is the same message."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"
