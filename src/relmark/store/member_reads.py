"""What the customer 360 shows of one member's promises, read-only: ledger lines with the
order and offer they name, the points that expire next, the customer's offers with the order
a gift went out with, and their referral code if one was made.

Reads only: a page view never makes a referral code (a message or `relmark referrals show`
does, the first time one is needed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Numeric, bindparam, select, text

from relmark.store.models import Order
from relmark.store.offer_models import Offer
from relmark.store.referral_models import ReferralCode
from relmark.store.referral_report import LIST_COLUMNS, LIST_FROM, LIVE, _item
from relmark.store.types import UTCDateTime

EXPIRY_ROWS = 1000
#: The referrals naming one person (any of their merged ids) on either side: the report's
#: merge-following walk (store/referral_report.LIVE) seeded with those referrals only, so a
#: 360 view reads by the indexes on referrer_id and referee_id, not every referral.
ONE_PERSON = LIVE.replace(
    "WITH RECURSIVE people(id) AS (\n"
    "    SELECT referrer_id FROM referrals UNION SELECT referee_id FROM referrals\n)",
    """WITH RECURSIVE mine(id) AS (
    SELECT CAST(:customer AS INTEGER) UNION
    SELECT c.id FROM customers c JOIN mine ON c.merged_into_id = mine.id
), rel AS (
    SELECT * FROM referrals WHERE referrer_id IN (SELECT id FROM mine)
    UNION SELECT * FROM referrals WHERE referee_id IN (SELECT id FROM mine)
), people(id) AS (
    SELECT referrer_id FROM rel UNION SELECT referee_id FROM rel
)""",
)


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


def referrals_of(connection: Connection, customer_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """The referrals the live profile `customer_id` made or came through, newest first: the
    rows `referral_report.list_referrals(customer_id=...)` gives, read for this person only."""
    if ONE_PERSON == LIVE:  # the report's walk changed shape: fail loudly, not read it all
        raise RuntimeError("store/referral_report.LIVE changed; update member_reads.ONE_PERSON")
    query = text(
        f"{ONE_PERSON} SELECT {LIST_COLUMNS} {LIST_FROM.replace('FROM referrals r', 'FROM rel r')} "
        "ORDER BY r.id DESC LIMIT :limit"
    ).columns(
        ordered_at=UTCDateTime(),
        created_at=UTCDateTime(),
        decided_at=UTCDateTime(),
        referee_percent=Numeric(5, 2),
    )
    rows = connection.execute(query, {"customer": customer_id, "limit": limit}).mappings()
    return [_item(row) for row in rows]
