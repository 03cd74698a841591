"""What finance needs to know about the points: how many are outstanding, what they are
worth, how many will probably never be spent (breakage), by month of expiry; and one
member's card (balance, tier, recent entries)."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import Engine, select

from relmark.interact.loyalty.programme import Programme
from relmark.store.loyalty_ledger import ENTRIES
from relmark.store.loyalty_models import LoyaltyAccount
from relmark.store.loyalty_tiers import breakage, outstanding_by_expiry

HOW_BREAKAGE = (
    "expired ÷ (earned − reversed) over the earn entries whose expiry date has passed: "
    "the share of matured points that lapsed unspent; applied to outstanding points as the "
    "expected breakage"
)


def _money(points: int | Decimal, programme: Programme) -> str:
    quantum = Decimal(1).scaleb(-programme.digits)
    value = Decimal(points) * programme.point_value
    return str(value.quantize(quantum, rounding=ROUND_HALF_EVEN))


def liability_report(engine: Engine, programme: Programme, now: datetime) -> dict[str, Any]:
    with engine.connect() as connection:
        months = outstanding_by_expiry(connection, now)
        found = breakage(connection, now)
    rate = Decimal(str(found.rate)) if found.rate is not None else None
    rows = []
    for month, points in months.iter_rows():
        expected = int((Decimal(points) * rate).to_integral_value()) if rate is not None else None
        rows.append(
            {
                "expires": month,
                "points": int(points),
                "value": _money(points, programme),
                "expected_breakage_points": expected,
            }
        )
    outstanding = sum(r["points"] for r in rows)
    expected = sum(r["expected_breakage_points"] for r in rows) if rate is not None else None
    return {
        "as_of": now,
        "currency": programme.currency,
        "point_value": str(programme.point_value),
        "outstanding_points": outstanding,
        "value": _money(outstanding, programme),
        "breakage": {
            "rate": found.rate,
            "matured_points": found.matured_points,
            "expired_points": found.expired_points,
            "how": HOW_BREAKAGE,
            "unknown_because": found.why_unknown,
        },
        "expected_breakage_points": expected,
        "expected_liability": _money(outstanding - expected, programme)
        if expected is not None
        else None,
        "by_month": rows,
    }


def member_card(
    engine: Engine, programme: Programme, customer_id: int, limit: int = 20
) -> dict[str, Any]:
    """A member's balance, tier and latest entries (newest first)."""
    with engine.connect() as connection:
        row = connection.execute(
            select(LoyaltyAccount.balance, LoyaltyAccount.tier, LoyaltyAccount.tier_since).where(
                LoyaltyAccount.customer_id == customer_id
            )
        ).first()
        entries = connection.execute(
            select(
                ENTRIES.c.id,
                ENTRIES.c.at,
                ENTRIES.c.kind,
                ENTRIES.c.rule,
                ENTRIES.c.points,
                ENTRIES.c.expires_at,
                ENTRIES.c.order_id,
                ENTRIES.c.offer_id,
                ENTRIES.c.reason,
            )
            .where(ENTRIES.c.customer_id == customer_id)
            .order_by(ENTRIES.c.at.desc(), ENTRIES.c.id.desc())
            .limit(limit)
        ).all()
    balance = row.balance if row else 0
    return {
        "customer_id": customer_id,
        "programme": programme.name,
        "balance": balance,
        "value": _money(balance, programme),
        "currency": programme.currency,
        "tier": row.tier if row else None,
        "tier_since": row.tier_since if row else None,
        "entries": [dict(e._mapping) for e in entries],
    }
