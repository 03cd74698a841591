"""Tiers and the finance view of the ledger, set-based: a tier per member from a rolling
window, a customer event for every change, and what the outstanding points are worth."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import polars as pl
from sqlalchemy import Connection, bindparam, select, text

from relmark.enums import EventKind
from relmark.store.bulk import fetch_frame
from relmark.store.dialects import dialect_of
from relmark.store.loyalty_ledger import EARNING_STATUSES, run, temp_table
from relmark.store.models import CustomerEvent
from relmark.store.types import UTCDateTime

CURRENCY = re.compile(r"^[A-Z]{3}$")


def converted_sql(column: str, factors: dict[str, float]) -> str:
    """SQL turning `column` (an order's minor units) into the programme's units by the
    order's currency; a currency without a factor gives NULL (it is left out)."""
    cases = []
    for currency, factor in sorted(factors.items()):
        if not CURRENCY.match(currency):
            raise ValueError(f"not a currency code: {currency!r}")
        cases.append(f"WHEN '{currency}' THEN {column} * {float(factor)!r}")
    return f"(CASE o.currency {' '.join(cases)} END)" if cases else "NULL"


@dataclass(frozen=True)
class TierChanges:
    members: int
    changed: int


def recompute_tiers(
    connection: Connection,
    now: datetime,
    levels: Sequence[tuple[str, int]],
    basis: str,
    window_start: datetime,
    spend_factors: dict[str, float] | None = None,
) -> TierChanges:
    """Each member's tier from the points earned (net of reversals) or the spend (whole
    units of the programme's currency) since `window_start`; changes are written to the
    account (tier_since) and to the customer's events as tier_changed {from, to}."""
    if basis == "points":
        qualifying = (
            "SELECT customer_id, SUM(points) AS q FROM loyalty_entries "
            "WHERE kind IN ('earn', 'reverse') AND at >= :window_at GROUP BY customer_id"
        )
    else:
        statuses = ", ".join(f"'{s}'" for s in EARNING_STATUSES)
        money = converted_sql("o.amount_minor", spend_factors or {})
        qualifying = (
            f"SELECT COALESCE(c.merged_into_id, c.id) AS customer_id, SUM({money}) AS q "
            "FROM orders o JOIN customers c ON c.id = o.customer_id "
            f"WHERE o.status IN ({statuses}) AND o.ordered_at >= :window_at "
            "AND o.ordered_at <= :now GROUP BY COALESCE(c.merged_into_id, c.id)"
        )
    whens = " ".join(
        f"WHEN COALESCE(q.q, 0) >= {int(minimum)} THEN '{name}'"
        for name, minimum in sorted(levels, key=lambda level: -level[1])
    )
    tier = f"CASE {whens} END" if whens else "NULL"
    temp_table(
        connection,
        "loyalty_tier_new",
        f"SELECT a.customer_id, a.tier AS old, {tier} AS new FROM loyalty_accounts a "
        f"LEFT JOIN ({qualifying}) q ON q.customer_id = a.customer_id",
        window_at=window_start,
        now=now,
    )
    changed = "COALESCE(t.old, '') <> COALESCE(t.new, '')"
    parameters = dialect_of(connection).json_object({"from": "t.old", "to": "t.new"})
    run(
        connection,
        "INSERT INTO customer_events (at, customer_id, kind, parameters) "
        f"SELECT :now, t.customer_id, '{EventKind.TIER_CHANGED.value}', {parameters} "
        f"FROM loyalty_tier_new t WHERE {changed}",
        now=now,
    )
    count = run(
        connection,
        "UPDATE loyalty_accounts SET tier = t.new, tier_since = :now, updated_at = :now "
        f"FROM loyalty_tier_new t WHERE t.customer_id = loyalty_accounts.customer_id AND {changed}",
        now=now,
    ).rowcount
    members = run(connection, "SELECT COUNT(*) FROM loyalty_tier_new").scalar_one()
    return TierChanges(int(members), int(count or 0))


@dataclass(frozen=True)
class Breakage:
    rate: float | None
    matured_points: int
    expired_points: int
    why_unknown: str | None


def outstanding_by_expiry(connection: Connection, now: datetime) -> pl.DataFrame:
    """What is left of every live earn entry, summed by month of expiry ('never' for points
    without one): columns month, points."""
    frame = fetch_frame(
        connection,
        text(
            "SELECT e.expires_at, e.points - COALESCE(u.used, 0) AS points "
            "FROM loyalty_entries e LEFT JOIN (SELECT earn_id, SUM(points) AS used "
            "FROM loyalty_allocations GROUP BY earn_id) u ON u.earn_id = e.id "
            "WHERE e.points > 0 AND (e.expires_at IS NULL OR e.expires_at > :now) "
            "AND e.points > COALESCE(u.used, 0)"
        ).bindparams(bindparam("now", value=now, type_=UTCDateTime())),
        {"expires_at": pl.Datetime("us", "UTC"), "points": pl.Int64},
    )
    return (
        frame.with_columns(
            pl.col("expires_at").dt.strftime("%Y-%m").fill_null("never").alias("month")
        )
        .group_by("month")
        .agg(pl.col("points").sum())
        .sort("month")
    )


def breakage(connection: Connection, now: datetime) -> Breakage:
    """The share of matured points (earn entries whose expiry has passed) that expired
    unspent, net of points reversed by returns: expired / (earned - reversed)."""
    earned, expired, reversed_ = run(
        connection,
        "SELECT COALESCE(SUM(e.points), 0), COALESCE(SUM(x.expired), 0), "
        "COALESCE(SUM(x.reversed), 0) FROM loyalty_entries e LEFT JOIN ("
        "SELECT a.earn_id, SUM(CASE WHEN d.kind = 'expire' THEN a.points ELSE 0 END) AS expired, "
        "SUM(CASE WHEN d.kind = 'reverse' THEN a.points ELSE 0 END) AS reversed "
        "FROM loyalty_allocations a JOIN loyalty_entries d ON d.id = a.debit_id "
        "GROUP BY a.earn_id) x ON x.earn_id = e.id "
        "WHERE e.points > 0 AND e.expires_at <= :now",
        now=now,
    ).one()
    matured = int(earned) - int(reversed_)
    if matured <= 0:
        return Breakage(
            None, 0, 0, "no earned points have reached their expiry yet: no history to go by"
        )
    return Breakage(int(expired) / matured, matured, int(expired), None)


def tier_changes(connection: Connection, start: datetime, end: datetime) -> pl.DataFrame:
    """Tier changes recorded in (start, end]: event_id, customer_id, at, to_tier (what a
    tier_changed playbook trigger reads; few rows, parsed here rather than per dialect)."""
    rows = connection.execute(
        select(
            CustomerEvent.id, CustomerEvent.customer_id, CustomerEvent.at, CustomerEvent.parameters
        ).where(
            CustomerEvent.kind == EventKind.TIER_CHANGED.value,
            CustomerEvent.at > start,
            CustomerEvent.at <= end,
        )
    ).all()
    return pl.DataFrame(
        {
            "event_id": [r.id for r in rows],
            "customer_id": [r.customer_id for r in rows],
            "at": [r.at for r in rows],
            "to_tier": [(r.parameters or {}).get("to") for r in rows],
        },
        schema={
            "event_id": pl.Int64,
            "customer_id": pl.Int64,
            "at": pl.Datetime("us", "UTC"),
            "to_tier": pl.String,
        },
    )


def member_tiers(connection: Connection) -> pl.DataFrame:
    """customer_id, value (the tier) of every member with one (audience `tiers`)."""
    return fetch_frame(
        connection,
        text("SELECT customer_id, tier AS value FROM loyalty_accounts WHERE tier IS NOT NULL"),
        {"customer_id": pl.Int64, "value": pl.String},
    )
