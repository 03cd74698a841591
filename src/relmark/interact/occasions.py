"""Occasions: which customer a playbook's trigger points at, when, and why (the occasion).

Each function turns facts read from the store into candidate rows
(playbook, customer_id, occasion, due_at, order_id, product_id, fell_due, expired,
expires_at: the moment from which it is too late to send, checked again when sending). The
occasion makes the idempotency key: the same order, product, birthday year or score day
never yields two messages of one playbook.

A plan decides every occasion that fell due since the previous plan over the whole store
(the `Span`), not only today's: after an outage an occasion within its playbook's
`late_until` goes out late (due now, `fell_due` says when it should have), a later one is
marked `expired` (due when it fell due) and held, so nothing lapses without a trace.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

import polars as pl

from relmark.interact.playbook import Playbook, TriggerKind

UTC_US = pl.Datetime("us", "UTC")
CANDIDATE_SCHEMA = {
    "playbook": pl.String,
    "customer_id": pl.Int64,
    "occasion": pl.String,
    "due_at": UTC_US,
    "order_id": pl.Int64,
    "product_id": pl.Int64,
    "fell_due": UTC_US,
    "expired": pl.Boolean,
    "expires_at": UTC_US,
}


@dataclass(frozen=True)
class Span:
    """What a plan decides: occasions due up to `as_of` (+ `ahead` for events) and, back to
    `since` (the previous whole-store plan, bounded by the maximum catch-up), those a gap
    left undecided. `since` None (a first plan): only what is still on time today."""

    as_of: datetime
    since: datetime | None = None
    ahead: timedelta = timedelta(0)


def empty() -> pl.DataFrame:
    return pl.DataFrame(schema=CANDIDATE_SCHEMA)


def event_window(book: Playbook, span: Span) -> tuple[datetime, datetime]:
    """Orders placed in (start, end] are due for `book` in this plan: their delay has passed
    (or passes within `ahead`), and they fell due within `late_until` or since the gap began."""
    delay = timedelta(days=book.trigger.delay_days)
    earliest_due = span.as_of - timedelta(days=book.trigger.late_days)
    if span.since is not None:
        earliest_due = min(earliest_due, span.since)
    return earliest_due - delay, span.as_of + span.ahead - delay


def from_orders(book: Playbook, orders: pl.DataFrame, span: Span) -> pl.DataFrame:
    """Order and first-purchase triggers: one candidate per order (or per product)."""
    start, end = event_window(book, span)
    due = orders.filter((pl.col("ordered_at") > start) & (pl.col("ordered_at") <= end))
    if book.trigger.on is TriggerKind.FIRST_PURCHASE_WITH_HOWTO:
        occasion = pl.format("product:{}", pl.col("product_id"))
        product = pl.col("product_id")
    else:
        occasion = pl.format("order:{}", pl.col("order_id"))
        product = pl.lit(None, dtype=pl.Int64)
    as_of = pl.lit(span.as_of, dtype=UTC_US)
    fell_due = pl.col("ordered_at") + pl.duration(days=book.trigger.delay_days)
    expires_at = fell_due + pl.duration(days=book.trigger.late_days)
    expired = expires_at < as_of
    return due.select(
        pl.lit(book.name).alias("playbook"),
        "customer_id",
        occasion.alias("occasion"),
        pl.when(expired)
        .then(fell_due)
        .otherwise(pl.max_horizontal(fell_due, as_of))
        .alias("due_at"),
        "order_id",
        product.alias("product_id"),
        fell_due.alias("fell_due"),
        expired.alias("expired"),
        expires_at.alias("expires_at"),
    )


def from_tier_changes(book: Playbook, changes: pl.DataFrame, span: Span) -> pl.DataFrame:
    """Tier-change triggers: one candidate per change (into `to_tier` when the trigger names
    one), like an order's; the change's event is the occasion."""
    if book.trigger.to_tier is not None:
        changes = changes.filter(pl.col("to_tier") == book.trigger.to_tier)
    as_orders = changes.select(
        pl.col("event_id").alias("order_id"), "customer_id", pl.col("at").alias("ordered_at")
    )
    return from_orders(book, as_orders, span).with_columns(
        pl.format("tier:{}", pl.col("order_id")).alias("occasion"),
        pl.lit(None, dtype=pl.Int64).alias("order_id"),
    )


@cache
def known_zone(name: str | None) -> bool:
    return bool(name) and name in available_timezones()


def with_zone(frame: pl.DataFrame, default: str) -> pl.DataFrame:
    """Add `zone`: the customer's timezone when valid, else the store's default."""
    zones = frame["timezone"].unique().to_list()
    valid = [z for z in zones if z is not None and known_zone(z)]
    return frame.with_columns(
        pl.when(pl.col("timezone").is_in(valid))
        .then(pl.col("timezone"))
        .otherwise(pl.lit(default))
        .alias("zone")
    )


def month_days_around(span: Span) -> list[str]:
    """MM-DD of every calendar day, somewhere on Earth, from the gap's first day to tomorrow."""
    first = (span.since or span.as_of) - timedelta(hours=14)
    last = span.as_of + timedelta(hours=38)
    found = {
        (first.date() + timedelta(days=n)).strftime("%m-%d")
        for n in range((last.date() - first.date()).days + 1)
    }
    if "02-28" in found:
        found.add("02-29")  # leap-day people celebrate on 28 February in common years
    return sorted(found)


def from_dates(book: Playbook, people: pl.DataFrame, span: Span, default_zone: str) -> pl.DataFrame:
    """Birthday or anniversary on each of the customer's local days from the gap's first day
    to tomorrow, due at the playbook's local hour that day (or now, once that has passed)."""
    if people.is_empty():
        return empty()
    column = "birthday" if book.trigger.on is TriggerKind.BIRTHDAY else "customer_since"
    people = with_zone(people.filter(pl.col(column).is_not_null()), default_zone)
    parts = []
    for (zone,), group in people.group_by("zone"):
        if column == "birthday":
            origin = pl.col("birthday")
        else:
            origin = pl.col("customer_since").dt.convert_time_zone(str(zone)).dt.date()
        days = _local_days(book, span, ZoneInfo(str(zone)))
        if days.is_empty():
            continue
        hits = (
            group.with_columns(origin.alias("origin"))
            .with_columns(pl.col("origin").dt.strftime("%m-%d").alias("md"))
            .join(days, on="md")
            .filter(pl.col("origin").dt.year() < pl.col("year"))
        )
        parts.append(
            hits.select(
                pl.lit(book.name).alias("playbook"),
                "customer_id",
                pl.col("year").cast(pl.String).alias("occasion"),
                "due_at",
                pl.lit(None, dtype=pl.Int64).alias("order_id"),
                pl.lit(None, dtype=pl.Int64).alias("product_id"),
                "fell_due",
                "expired",
                "expires_at",
            )
        )
    return pl.concat(parts) if parts else empty()


def _local_days(book: Playbook, span: Span, tz: ZoneInfo) -> pl.DataFrame:
    """One row per local day of the span in `tz` and per month-day celebrated on it (28
    February of a common year also stands for 29 February): its year, due and fell-due
    times, whether it is past `late_until`, and when it will be: at the end of that local
    day plus `late_until` days ("only on the day" means the customer's day, not UTC's)."""
    today = span.as_of.astimezone(tz).date()
    first = span.since.astimezone(tz).date() if span.since is not None else today
    rows = []
    for n in range((today - first).days + 2):
        day = first + timedelta(days=n)
        fell_due = datetime.combine(day, clock(book.trigger.local_hour), tz).astimezone(UTC)
        expires_at = local_midnight(day + timedelta(days=1 + book.trigger.late_days), tz)
        expired = expires_at <= span.as_of
        due = fell_due if expired else max(fell_due, span.as_of)
        if not expired and due.astimezone(tz).date() != day and day >= today:
            continue
        for md in _celebrated_on(day):
            rows.append((md, day.year, due, fell_due, expired, expires_at))
    return pl.DataFrame(
        rows,
        schema={
            "md": pl.String,
            "year": pl.Int32,
            "due_at": UTC_US,
            "fell_due": UTC_US,
            "expired": pl.Boolean,
            "expires_at": UTC_US,
        },
        orient="row",
    )


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The start of `day` in `tz`, in UTC (a zone that skips midnight: its first hour)."""
    return datetime.combine(day, clock(0), tz).astimezone(UTC)


def _celebrated_on(day: date) -> list[str]:
    found = [day.strftime("%m-%d")]
    if day.month == 2 and day.day == 28 and not _is_leap(day.year):
        found.append("02-29")
    return found


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def from_scores(book: Playbook, customers: pl.Series, as_of: datetime) -> pl.DataFrame:
    """Score triggers: every scored customer is a candidate today; the audience filters."""
    return pl.DataFrame({"customer_id": customers}).select(
        pl.lit(book.name).alias("playbook"),
        pl.col("customer_id").cast(pl.Int64),
        pl.lit(f"day:{as_of.date().isoformat()}").alias("occasion"),
        pl.lit(as_of, dtype=UTC_US).alias("due_at"),
        pl.lit(None, dtype=pl.Int64).alias("order_id"),
        pl.lit(None, dtype=pl.Int64).alias("product_id"),
        pl.lit(as_of, dtype=UTC_US).alias("fell_due"),
        pl.lit(False).alias("expired"),
        pl.lit(None, dtype=UTC_US).alias("expires_at"),
    )
