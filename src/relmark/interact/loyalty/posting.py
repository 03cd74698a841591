"""The posting job: carry merged profiles' points to their survivors, post every order's
points (and birthdays'), expire what is due, take back the points of returned and refunded
orders, and move members between tiers.

Set-based throughout: the orders not yet posted go into the ledger in one INSERT … SELECT
per rule, their points (by currency) and expiry (months later) computed in SQL; birthdays
go through a small Polars frame. Re-running posts nothing twice ((order, rule) and
(customer, rule, occasion) are keys). Orders of a merged profile count for the survivor.
A partially refunded order keeps its points: the store holds no refunded amount to scale by.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import polars as pl
from babel.numbers import get_currency_precision
from sqlalchemy import Connection, Engine, text

from relmark.errors import InvalidInput
from relmark.interact.loyalty.programme import ENABLED_KEY, Programme
from relmark.store import kv
from relmark.store.bulk import fetch_frame, stage
from relmark.store.db import bulk_transaction
from relmark.store.dialects import dialect_of
from relmark.store.loyalty_ledger import (
    EARNING_STATUSES,
    ENTRIES,
    expire_due,
    post_fresh,
    post_staged,
    run,
)
from relmark.store.loyalty_moves import carry_merged, reverse_orders
from relmark.store.loyalty_tiers import converted_sql, recompute_tiers

RATES_KEY = "reporting-currency"  # where `relmark currency set` keeps the store's rates
BIRTHDAY_GRACE_DAYS = 30
OFF = "the loyalty programme is off in this store: switch it on with `relmark loyalty enable`"


@dataclass(frozen=True)
class PostingReport:
    expired_entries: int
    expired_points: int
    orders_posted: int
    points_earned: int
    unconverted_orders: int
    birthdays: int
    reversed_orders: int
    points_reversed: int
    points_short: int
    members: int
    tier_changes: int
    carried_from_merged: int = 0
    """Points moved from merged profiles to their survivors."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def is_enabled(connection: Connection) -> bool:
    return kv.get_setting(connection, ENABLED_KEY) is True


def require_enabled(connection: Connection) -> None:
    if not is_enabled(connection):
        raise InvalidInput.single("loyalty", OFF)


def unit_rates(programme: Programme, rates: dict[str, Any] | None) -> dict[str, Decimal]:
    """Units of the programme's currency one unit of each known currency is worth, from the
    store's reporting currency and rates (1 unit of C = rate units of the reporting one)."""
    found = {programme.currency: Decimal(1)}
    if not rates:
        return found
    reporting = str(rates["currency"])
    to_reporting = {reporting: Decimal(1)} | {c: Decimal(v) for c, v in rates["rates"].items()}
    if programme.currency not in to_reporting:
        return found
    base = to_reporting[programme.currency]
    return found | {c: r / base for c, r in to_reporting.items()}


def point_factors(programme: Programme, rates: dict[str, Any] | None) -> dict[str, float]:
    """Points per minor unit of each currency an order can be in: the file's own rate for
    a currency (per_currency) wins over a conversion at the store's rates."""
    factors = {
        c: float(rate * programme.points_per_unit / 10 ** get_currency_precision(c))
        for c, rate in unit_rates(programme, rates).items()
    }
    for currency, per_unit in programme.per_currency.items():
        factors[currency] = float(per_unit / 10 ** get_currency_precision(currency))
    return factors


def spend_factors(programme: Programme, rates: dict[str, Any] | None) -> dict[str, float]:
    """Whole units of the programme's currency per minor unit of each currency."""
    return {
        c: float(rate / 10 ** get_currency_precision(c))
        for c, rate in unit_rates(programme, rates).items()
    }


def _expiry(programme: Programme, at: pl.Expr) -> pl.Expr:
    if programme.expiry_months is None:
        return pl.lit(None, dtype=pl.Datetime("us", "UTC"))
    return at.dt.offset_by(f"{programme.expiry_months}mo")


def _post(connection: Connection, frame: pl.DataFrame, now: datetime, by: str) -> tuple[int, int]:
    frame = frame.select(
        "customer_id",
        "rule",
        "points",
        "at",
        "expires_at",
        pl.col("order_id").cast(pl.Int64),
        pl.col("occasion").cast(pl.String),
    )
    stage(connection, "loyalty_stage", frame, ENTRIES)
    return post_staged(connection, "loyalty_stage", now, by)  # type: ignore[arg-type]


def post_orders(
    connection: Connection, programme: Programme, now: datetime
) -> tuple[int, int, int]:
    """Points for every earning order not yet posted, in one INSERT … SELECT per rule:
    (orders, points, orders left unconverted for want of a rate)."""
    dialect = dialect_of(connection)
    statuses = ", ".join(f"'{s}'" for s in EARNING_STATUSES)
    params: dict[str, Any] = {}
    since = ""
    if programme.starts:
        params["starts_at"] = datetime.combine(programme.starts, datetime.min.time(), UTC)
        since = "AND o.ordered_at >= :starts_at"
    expires = (
        dialect.add_months("o.ordered_at", programme.expiry_months)
        if programme.expiry_months
        else "CAST(NULL AS TIMESTAMP WITH TIME ZONE)"
    )

    def unposted(rule: str) -> str:
        return (
            "FROM orders o JOIN customers c ON c.id = o.customer_id "
            f"WHERE o.status IN ({statuses}) AND o.ordered_at <= :now {since} "
            "AND NOT EXISTS (SELECT 1 FROM loyalty_entries e WHERE e.order_id = o.id "
            f"AND e.rule = '{rule}')"
        )

    def entries(rule: str, points: str) -> str:
        return (
            f"SELECT COALESCE(c.merged_into_id, c.id) AS customer_id, '{rule}' AS rule, "
            f"{points} AS points, o.ordered_at AS at, {expires} AS expires_at, "
            "o.id AS order_id, CAST(NULL AS VARCHAR(60)) AS occasion "
        )

    orders = points = unconverted = 0
    if programme.points_per_unit > 0:
        factors = point_factors(programme, kv.get_setting(connection, RATES_KEY))
        known = ", ".join(f"'{c}'" for c in sorted(factors))
        earned = dialect.floor_int(f"{converted_sql('o.amount_minor', factors)} + 1e-9")
        orders, points = post_fresh(
            connection,
            entries("spend", earned) + unposted("spend") + f" AND o.currency IN ({known})",
            now,
            **params,
        )
        unconverted = int(
            run(
                connection,
                f"SELECT COUNT(*) {unposted('spend')} AND o.currency NOT IN ({known})",
                now=now,
                **params,
            ).scalar_one()
        )
    if programme.points_per_order > 0:
        per_order, extra = post_fresh(
            connection,
            entries("order", str(int(programme.points_per_order))) + unposted("order"),
            now,
            **params,
        )
        orders, points = max(orders, per_order), points + extra
    return orders, points, unconverted


def post_birthdays(connection: Connection, programme: Programme, now: datetime) -> int:
    """The birthday bonus for members whose birthday fell within the last 30 days, once a
    year (the year is the posting's occasion); 29 February counts on the 28th otherwise."""
    if programme.birthday_points <= 0:
        return 0
    members = fetch_frame(
        connection,
        text(
            "SELECT a.customer_id, c.birthday FROM loyalty_accounts a "
            "JOIN customers c ON c.id = a.customer_id "
            "WHERE c.birthday IS NOT NULL AND c.merged_into_id IS NULL AND c.erased_at IS NULL"
        ),
        {"customer_id": pl.Int64, "birthday": pl.Date},
    )
    today = now.date()
    due = []
    for year in (today.year - 1, today.year):
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        day = pl.col("birthday").dt.day()
        if not leap:
            day = (
                pl.when((pl.col("birthday").dt.month() == 2) & (day == 29)).then(28).otherwise(day)
            )
        on = pl.date(year, pl.col("birthday").dt.month(), day)
        due.append(
            members.filter(
                (on <= today) & (on > today - timedelta(days=BIRTHDAY_GRACE_DAYS))
            ).with_columns(pl.lit(str(year)).alias("occasion"))
        )
    frame = pl.concat(due).with_columns(
        pl.lit("birthday").alias("rule"),
        pl.lit(programme.birthday_points, dtype=pl.Int64).alias("points"),
        pl.lit(now).alias("at"),
        pl.lit(None, dtype=pl.Int64).alias("order_id"),
    )
    frame = frame.with_columns(_expiry(programme, pl.col("at")).alias("expires_at"))
    posted, _ = _post(connection, frame, now, "occasion")
    return posted


def run_posting(engine: Engine, programme: Programme, now: datetime) -> PostingReport:
    """One all-or-nothing run of the whole job (see the module's docstring)."""
    with bulk_transaction(engine) as connection:
        require_enabled(connection)
        _, carried = carry_merged(connection, now)
        orders, points, unconverted = post_orders(connection, programme, now)
        birthdays = post_birthdays(connection, programme, now)
        # after posting: a first posting of old orders brings points already past expiry
        expiry = expire_due(connection, now)
        reversed_orders, taken, short = reverse_orders(connection, now)
        months = programme.tiers.window_months
        window = _months_before(now, months)
        tiers = recompute_tiers(
            connection,
            now,
            [(level.name, level.min) for level in programme.tiers.levels],
            programme.tiers.basis,
            window,
            spend_factors(programme, kv.get_setting(connection, RATES_KEY)),
        )
    return PostingReport(
        expiry.entries,
        expiry.points,
        orders,
        points,
        unconverted,
        birthdays,
        reversed_orders,
        taken,
        short,
        tiers.members,
        tiers.changed,
        carried,
    )


def _months_before(now: datetime, months: int) -> datetime:
    moment = pl.Series([now]).dt.offset_by(f"-{months}mo")[0]
    return moment  # type: ignore[no-any-return]
