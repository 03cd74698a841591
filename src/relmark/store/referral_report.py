"""Reading referrals: the list (CLI, API), one customer's side of it, and the ambassadors —
referrers ranked by the value of the customers they brought.

Referrals keep the customer ids they were written with; every read follows merges to the
live profile in SQL (a recursive walk over `merged_into_id`), so the report is one query
whatever the number of referrals.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Numeric, text

from relmark.enums import OrderStatus
from relmark.store.referral_models import ReferralStatus
from relmark.store.types import UTCDateTime

#: referral's customer id → the live profile holding that person now.
LIVE = """
WITH RECURSIVE people(id) AS (
    SELECT referrer_id FROM referrals UNION SELECT referee_id FROM referrals
), chain(start_id, cur_id) AS (
    SELECT id, id FROM people
    UNION
    SELECT chain.start_id, c.merged_into_id FROM chain
    JOIN customers c ON c.id = chain.cur_id WHERE c.merged_into_id IS NOT NULL
), live(start_id, live_id) AS (
    SELECT chain.start_id, chain.cur_id FROM chain
    JOIN customers c ON c.id = chain.cur_id WHERE c.merged_into_id IS NULL
)"""

LIST_COLUMNS = """
    r.id, rc.code, lr.live_id AS referrer_id, cr.first_name AS referrer_first_name,
    cr.last_name AS referrer_last_name, le.live_id AS referee_id,
    ce.first_name AS referee_first_name, ce.last_name AS referee_last_name,
    o.external_id AS order_number, o.ordered_at, o.amount_minor, o.currency, r.via, r.status,
    r.reason, r.referee_percent, r.referee_discount_minor, ofr.code AS reward_code,
    r.created_at, r.decided_at"""

LIST_FROM = """
    FROM referrals r
    JOIN live lr ON lr.start_id = r.referrer_id
    JOIN live le ON le.start_id = r.referee_id
    JOIN customers cr ON cr.id = lr.live_id
    JOIN customers ce ON ce.id = le.live_id
    JOIN referral_codes rc ON rc.id = r.code_id
    JOIN orders o ON o.id = r.order_id
    LEFT JOIN offers ofr ON ofr.id = r.reward_offer_id"""

STATUSES = tuple(s.value for s in ReferralStatus)
#: Orders that brought nothing in: left out of a referee's revenue.
NOT_REVENUE = (
    OrderStatus.CANCELLED.value,
    OrderStatus.REFUNDED.value,
    OrderStatus.RETURNED.value,
)


def list_referrals(
    connection: Connection,
    *,
    status: str | None = None,
    customer_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[dict[str, Any]]]:
    """(how many match, one page of them, newest first). `customer_id` matches the person
    on either side, whichever of their merged ids was written."""
    if status is not None and status not in STATUSES:
        raise ValueError(f"status {status!r} is not one of {', '.join(STATUSES)}")
    where, params = ["1 = 1"], {"limit": limit, "offset": offset}
    if status is not None:
        where.append("r.status = :status")
        params["status"] = status
    if customer_id is not None:
        where.append("(lr.live_id = :customer OR le.live_id = :customer)")
        params["customer"] = customer_id
    condition = " AND ".join(where)
    total = connection.execute(
        text(f"{LIVE} SELECT COUNT(*) {LIST_FROM} WHERE {condition}"), params
    ).scalar_one()
    rows = connection.execute(
        text(
            f"{LIVE} SELECT {LIST_COLUMNS} {LIST_FROM} WHERE {condition} "
            "ORDER BY r.id DESC LIMIT :limit OFFSET :offset"
        ).columns(  # typed: SQLite hands back text for these otherwise
            ordered_at=UTCDateTime(),
            created_at=UTCDateTime(),
            decided_at=UTCDateTime(),
            referee_percent=Numeric(5, 2),
        ),
        params,
    ).mappings()
    return int(total), [_item(row) for row in rows]


def _item(row: Any) -> dict[str, Any]:
    item = dict(row)
    if item["referee_percent"] is not None:
        item["referee_percent"] = float(item["referee_percent"])
    return item


def ambassadors(connection: Connection, currency: str, *, limit: int = 50) -> dict[str, Any]:
    """Referrers ranked by the value of the customers they brought (referrals not rejected):
    each referee's lifetime value in the latest scoring run, else their revenue so far, in the
    run's currency (before any run: the referred orders' usual currency, else `currency`).
    `basis` says which: clv, revenue, or clv+revenue."""
    run = connection.execute(
        text("SELECT id, currency FROM score_runs ORDER BY id DESC LIMIT 1")
    ).first()
    run_id = int(run[0]) if run else None
    if run:
        currency = str(run[1])
    else:  # no scoring yet: the currency most referred orders were paid in
        currency = (
            connection.execute(
                text(
                    "SELECT o.currency FROM referrals r JOIN orders o ON o.id = r.order_id "
                    "GROUP BY o.currency ORDER BY COUNT(*) DESC, o.currency LIMIT 1"
                )
            ).scalar()
            or currency
        )
    rows = connection.execute(
        text(
            f"""{LIVE},
            brought AS (
                SELECT DISTINCT lr.live_id AS referrer_id, le.live_id AS referee_id
                FROM referrals r
                JOIN live lr ON lr.start_id = r.referrer_id
                JOIN live le ON le.start_id = r.referee_id
                WHERE r.status <> 'rejected' AND lr.live_id <> le.live_id
            ), valued AS (
                SELECT b.referrer_id, b.referee_id, s.clv_minor AS clv,
                    (SELECT COALESCE(SUM(o.amount_minor), 0) FROM orders o
                     WHERE o.customer_id = b.referee_id AND o.currency = :currency
                       AND o.status NOT IN ('{"', '".join(NOT_REVENUE)}')) AS revenue
                FROM brought b
                LEFT JOIN customer_scores s
                    ON s.customer_id = b.referee_id AND s.run_id = :run_id
            ), counted AS (
                SELECT lr.live_id AS referrer_id,
                    SUM(CASE WHEN r.status = 'pending' THEN 1 ELSE 0 END) AS pending,
                    SUM(CASE WHEN r.status = 'rewarded' THEN 1 ELSE 0 END) AS rewarded,
                    SUM(CASE WHEN r.status = 'rejected' THEN 1 ELSE 0 END) AS rejected
                FROM referrals r JOIN live lr ON lr.start_id = r.referrer_id
                GROUP BY lr.live_id
            )
            SELECT c.referrer_id, cu.first_name, cu.last_name, c.pending, c.rewarded,
                c.rejected, COUNT(v.referee_id) AS customers,
                COALESCE(SUM(COALESCE(v.clv, v.revenue)), 0) AS value_minor,
                SUM(CASE WHEN v.clv IS NOT NULL THEN 1 ELSE 0 END) AS by_clv
            FROM counted c
            JOIN customers cu ON cu.id = c.referrer_id
            LEFT JOIN valued v ON v.referrer_id = c.referrer_id
            GROUP BY c.referrer_id, cu.first_name, cu.last_name, c.pending, c.rewarded,
                c.rejected
            ORDER BY value_minor DESC, c.referrer_id
            LIMIT :limit"""
        ),
        {"currency": currency, "run_id": run_id or 0, "limit": limit},
    ).mappings()
    items = []
    for row in rows:
        customers, by_clv = int(row["customers"]), int(row["by_clv"] or 0)
        basis = "clv" if customers and by_clv == customers else "revenue"
        if 0 < by_clv < customers:
            basis = "clv+revenue"
        items.append(
            {
                "referrer_id": int(row["referrer_id"]),
                "first_name": row["first_name"],
                "last_name": row["last_name"],
                "customers": customers,
                "value_minor": int(row["value_minor"] or 0),
                "basis": basis,
                "pending": int(row["pending"] or 0),
                "rewarded": int(row["rewarded"] or 0),
                "rejected": int(row["rejected"] or 0),
            }
        )
    return {"run_id": run_id, "currency": currency, "items": items}
