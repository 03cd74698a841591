"""What the customer 360 shows of one member's promises, read-only: ledger lines with the
order and offer they name, the points that expire next, the customer's offers with the order
a gift went out with, and their referral code if one was made.

Reads only: a page view never makes a referral code (a message or `relmark referrals show`
does, the first time one is needed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, text

from relmark.store.models import Order
from relmark.store.offer_models import Offer
from relmark.store.referral_models import ReferralCode
from relmark.store.types import UTCDateTime

EXPIRY_ROWS = 1000


def ledger_lines(connection: Connection, customer_id: int, limit: int = 10) -> list[dict[str, Any]]:
    """The latest ledger entries, newest first, with the order number and the offer code."""
    query = text(
        "SELECT e.id, e.at, e.kind, e.rule, e.points, e.expires_at, e.reason, "
        "o.external_id AS order_number, f.code AS offer_code "
        "FROM loyalty_entries e LEFT JOIN orders o ON o.id = e.order_id "
        "LEFT JOIN offers f ON f.id = e.offer_id WHERE e.customer_id = :customer "
        "ORDER BY e.at DESC, e.id DESC LIMIT :limit"
    ).columns(at=UTCDateTime(), expires_at=UTCDateTime())  # typed: SQLite gives text otherwise
    rows = connection.execute(query, {"customer": customer_id, "limit": limit}).mappings()
    return [dict(row) for row in rows]


def next_expiry(connection: Connection, customer_id: int, now: datetime) -> dict[str, Any] | None:
    """The earliest day (UTC) on which some of the member's points expire, and how many
    points are left to expire that day; None when nothing live has an expiry."""
    query = (
        text(
            "SELECT expires_at, left_ FROM (SELECT e.id, e.expires_at, e.points - COALESCE(("
            "SELECT SUM(a.points) FROM loyalty_allocations a WHERE a.earn_id = e.id), 0) AS left_ "
            "FROM loyalty_entries e WHERE e.customer_id = :customer AND e.points > 0 "
            "AND e.expires_at > :now) live WHERE left_ > 0 ORDER BY expires_at, id LIMIT :rows"
        )
        .bindparams(bindparam("now", type_=UTCDateTime()))
        .columns(expires_at=UTCDateTime())
    )
    rows = connection.execute(
        query, {"customer": customer_id, "now": now, "rows": EXPIRY_ROWS}
    ).all()
    live = [(expires, int(left)) for expires, left in rows]
    if not live:
        return None
    day = live[0][0].date()
    points = sum(left for expires, left in live if expires.date() == day)
    return {"at": live[0][0], "points": points}


def customer_offers(
    connection: Connection, customer_id: int, limit: int = 50
) -> list[dict[str, Any]]:
    """The customer's offers, newest first, with the order number a gift was sent with."""
    offers = Offer.__table__
    rows = connection.execute(
        select(offers, Order.external_id.label("fulfilled_order"))
        .outerjoin(Order, Order.id == offers.c.fulfilled_order_id)
        .where(offers.c.customer_id == customer_id)
        .order_by(offers.c.created_at.desc(), offers.c.id.desc())
        .limit(limit)
    ).mappings()
    return [dict(row) for row in rows]


def own_referral_code(connection: Connection, customer_id: int) -> str | None:
    """The customer's referral code, or None if none was made yet."""
    return connection.execute(
        select(ReferralCode.code).where(ReferralCode.customer_id == customer_id)
    ).scalar()
