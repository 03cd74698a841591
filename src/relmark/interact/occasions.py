"""Occasions: which customer a playbook's trigger points at, when, and why (the occasion).

Each function turns facts read from the store into candidate rows
(playbook, customer_id, occasion, due_at, order_id, product_id). The occasion makes the
idempotency key: the same order, product, birthday year or score day never yields two
messages of one playbook.
"""

from __future__ import annotations

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
}


def empty() -> pl.DataFrame:
    return pl.DataFrame(schema=CANDIDATE_SCHEMA)


def event_window(book: Playbook, as_of: datetime) -> tuple[datetime, datetime]:
    """Orders placed in (start, end] are due for `book` now: delay passed, not yet lapsed."""
    end = as_of - timedelta(days=book.trigger.delay_days)
    return end - timedelta(days=book.trigger.expires_days), end


def from_orders(book: Playbook, orders: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    """Order and first-purchase triggers: one candidate per order (or per product)."""
    start, end = event_window(book, as_of)
    due = orders.filter((pl.col("ordered_at") > start) & (pl.col("ordered_at") <= end))
    if book.trigger.on is TriggerKind.FIRST_PURCHASE_WITH_HOWTO:
        occasion = pl.format("product:{}", pl.col("product_id"))
        product = pl.col("product_id")
    else:
        occasion = pl.format("order:{}", pl.col("order_id"))
        product = pl.lit(None, dtype=pl.Int64)
    return due.select(
        pl.lit(book.name).alias("playbook"),
        "customer_id",
        occasion.alias("occasion"),
        pl.lit(as_of, dtype=UTC_US).alias("due_at"),
        "order_id",
        product.alias("product_id"),
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


def month_days_around(as_of: datetime) -> list[str]:
    """MM-DD of every calendar day that is 'today' or 'tomorrow' somewhere on Earth."""
    days = {(as_of + timedelta(hours=h)).date() for h in range(-14, 15 + 24, 1)}
    found = {d.strftime("%m-%d") for d in days}
    if "02-28" in found:
        found.add("02-29")  # leap-day people celebrate on 28 February in common years
    return sorted(found)


def from_dates(
    book: Playbook, people: pl.DataFrame, as_of: datetime, default_zone: str
) -> pl.DataFrame:
    """Birthday or anniversary on the customer's local today or tomorrow, due at the
    playbook's local hour on that day (or now, if that hour has passed today)."""
    if people.is_empty():
        return empty()
    column = "birthday" if book.trigger.on is TriggerKind.BIRTHDAY else "customer_since"
    people = with_zone(people.filter(pl.col(column).is_not_null()), default_zone)
    parts = []
    for (zone,), group in people.group_by("zone"):
        tz = ZoneInfo(str(zone))
        local_today = as_of.astimezone(tz).date()
        if column == "birthday":
            dated = group.with_columns(pl.col("birthday").alias("origin"))
        else:
            dated = group.with_columns(
                pl.col("customer_since").dt.convert_time_zone(str(zone)).dt.date().alias("origin")
            )
        for day in (local_today, local_today + timedelta(days=1)):
            due = datetime.combine(day, clock(book.trigger.local_hour), tz).astimezone(UTC)
            due = max(due, as_of)
            if due.astimezone(tz).date() != day:
                continue
            hits = dated.filter(_falls_on(day)).filter(pl.col("origin").dt.year() < day.year)
            parts.append(
                hits.select(
                    pl.lit(book.name).alias("playbook"),
                    "customer_id",
                    pl.lit(str(day.year)).alias("occasion"),
                    pl.lit(due, dtype=UTC_US).alias("due_at"),
                    pl.lit(None, dtype=pl.Int64).alias("order_id"),
                    pl.lit(None, dtype=pl.Int64).alias("product_id"),
                )
            )
    return pl.concat(parts) if parts else empty()


def _falls_on(day: date) -> pl.Expr:
    same = (pl.col("origin").dt.month() == day.month) & (pl.col("origin").dt.day() == day.day)
    leap_day = (pl.col("origin").dt.month() == 2) & (pl.col("origin").dt.day() == 29)
    common_year_feb_28 = day.month == 2 and day.day == 28 and not _is_leap(day.year)
    return same | (leap_day & pl.lit(common_year_feb_28))


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
    )
