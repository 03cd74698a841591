"""Points that move between entries after they were earned: an order's points taken back
when it is returned or refunded, and a merged profile's points carried to the survivor.

Both are debits like any other (allocated to the earn entries they consume), set-based, and
idempotent: a reversal is once per order, and a carried earn entry has nothing left.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from relmark.store.live import live_id_of, with_merged_live
from relmark.store.loyalty_ledger import (
    REVERSING_STATUSES,
    add_to_accounts,
    allocate,
    lock_accounts,
    run,
    temp_table,
)


def reverse_orders(connection: Connection, now: datetime) -> tuple[int, int, int]:
    """Take back the points of returned and refunded orders, once per order: first from
    what is left of the order's own earn entries, then earliest-expiring first; never more
    than the balance (what was already spent beyond it is recorded as a shortfall), nor
    more than the order's points still amount to (what expired unspent is gone). The points
    of an order of a merged profile come back from the surviving customer.
    Returns (orders, points taken back, points short)."""
    statuses = ", ".join(f"'{s}'" for s in REVERSING_STATUSES)
    temp_table(
        connection,
        "loyalty_rev_orders",
        "SELECT DISTINCT e.order_id FROM loyalty_entries e JOIN orders o ON o.id = e.order_id "
        f"WHERE e.kind = 'earn' AND o.status IN ({statuses}) AND NOT EXISTS ("
        "SELECT 1 FROM loyalty_entries r WHERE r.order_id = e.order_id AND r.rule = 'reverse')",
    )
    # what the order's points still amount to: points that expired unspent are gone already
    expired = (
        "SELECT a.earn_id, SUM(a.points) AS gone FROM loyalty_allocations a "
        "JOIN loyalty_entries d ON d.id = a.debit_id JOIN loyalty_entries t ON t.id = a.earn_id "
        "JOIN loyalty_rev_orders w ON w.order_id = t.order_id WHERE d.kind = 'expire' "
        "GROUP BY a.earn_id"
    )
    # charged to the live profile at the end of the earner's merge chain (A→B→C: C)
    live = live_id_of("e.customer_id")
    temp_table(
        connection,
        "loyalty_rev_need",
        with_merged_live(
            f"SELECT e.order_id, {live} AS customer_id, "
            "SUM(e.points - COALESCE(x.gone, 0)) AS points FROM loyalty_entries e "
            "JOIN loyalty_rev_orders w ON w.order_id = e.order_id "
            "LEFT JOIN merged_live ml ON ml.start_id = e.customer_id "
            f"LEFT JOIN ({expired}) x ON x.earn_id = e.id WHERE e.kind = 'earn' "
            f"GROUP BY e.order_id, {live}"
        ),
    )
    lock_accounts(connection, "SELECT customer_id FROM loyalty_rev_need")
    temp_table(
        connection,
        "loyalty_rev",
        "SELECT n.order_id, n.customer_id, n.points AS wanted, CASE "
        "WHEN a.balance - (n.cum - n.points) >= n.points THEN n.points "
        "WHEN a.balance - (n.cum - n.points) > 0 THEN a.balance - (n.cum - n.points) "
        "ELSE 0 END AS taken FROM (SELECT order_id, customer_id, points, SUM(points) OVER ("
        "PARTITION BY customer_id ORDER BY order_id ROWS BETWEEN UNBOUNDED PRECEDING AND "
        "CURRENT ROW) AS cum FROM loyalty_rev_need) n "
        "JOIN loyalty_accounts a ON a.customer_id = n.customer_id",
    )
    run(
        connection,
        "INSERT INTO loyalty_entries (customer_id, kind, rule, points, at, posted_at, order_id, "
        "reason) SELECT customer_id, 'reverse', 'reverse', -taken, :now, :now, order_id, "
        "CASE WHEN taken < wanted THEN 'short by ' || CAST(wanted - taken AS VARCHAR(20)) || "
        "' point(s) already spent' END FROM loyalty_rev",
        now=now,
    )
    own = (
        "SELECT e.id AS debit_id, e.order_id AS part, -e.points AS points FROM loyalty_entries e "
        "JOIN loyalty_rev r ON r.order_id = e.order_id WHERE e.rule = 'reverse' AND e.points < 0"
    )
    allocate(connection, own, now, part="order_id")
    rest = (
        "SELECT e.id AS debit_id, e.customer_id AS part, -e.points - COALESCE(("
        "SELECT SUM(a.points) FROM loyalty_allocations a WHERE a.debit_id = e.id), 0) AS points "
        "FROM loyalty_entries e JOIN loyalty_rev r ON r.order_id = e.order_id "
        "WHERE e.rule = 'reverse' AND e.points < 0"
    )
    allocate(connection, rest, now)
    add_to_accounts(connection, "SELECT customer_id, -taken AS points FROM loyalty_rev", now)
    orders, taken, short = run(
        connection,
        "SELECT COUNT(*), COALESCE(SUM(taken), 0), COALESCE(SUM(wanted - taken), 0) "
        "FROM loyalty_rev",
    ).one()
    return int(orders), int(taken), int(short)


def carry_merged(connection: Connection, now: datetime) -> tuple[int, int]:
    """Move what is left of a merged profile's live earn entries to its survivor (the live
    profile at the end of its merge chain, so A→B→C moves A's points to C at once): a debit
    on the absorbed account per entry (allocated to it) and an earn entry on the survivor
    with the same points, time and expiry (so FIFO, expiry and tiers see them as before).
    Returns (entries carried, points)."""
    temp_table(
        connection,
        "loyalty_moving",
        with_merged_live(
            "SELECT e.id, e.customer_id AS absorbed, ml.live_id AS survivor, e.at, "
            "e.expires_at, e.points - COALESCE((SELECT SUM(a.points) FROM loyalty_allocations "
            "a WHERE a.earn_id = e.id), 0) AS left_ FROM loyalty_entries e "
            "JOIN merged_live ml ON ml.start_id = e.customer_id "
            "WHERE e.points > 0 AND (e.expires_at IS NULL OR e.expires_at > :now)"
        ),
        now=now,
    )
    run(connection, "DELETE FROM loyalty_moving WHERE left_ <= 0")
    count, points = run(
        connection, "SELECT COUNT(*), COALESCE(SUM(left_), 0) FROM loyalty_moving"
    ).one()
    if not count:
        return 0, 0
    lock_accounts(
        connection,
        "SELECT absorbed FROM loyalty_moving UNION SELECT survivor FROM loyalty_moving",
    )
    moved = "'moved:' || CAST(m.id AS VARCHAR(20))"
    run(
        connection,
        "INSERT INTO loyalty_entries (customer_id, kind, rule, points, at, posted_at, occasion, "
        f"reason) SELECT m.absorbed, 'adjust', 'merged', -m.left_, :now, :now, {moved}, "
        "'carried to customer ' || CAST(m.survivor AS VARCHAR(20)) FROM loyalty_moving m",
        now=now,
    )
    run(
        connection,
        "INSERT INTO loyalty_allocations (debit_id, earn_id, points) "
        "SELECT d.id, m.id, m.left_ FROM loyalty_moving m JOIN loyalty_entries d "
        f"ON d.customer_id = m.absorbed AND d.rule = 'merged' AND d.occasion = {moved}",
    )
    run(
        connection,
        "INSERT INTO loyalty_entries (customer_id, kind, rule, points, at, posted_at, "
        "expires_at, occasion, reason) SELECT m.survivor, 'earn', 'merged', m.left_, m.at, "
        ":now, m.expires_at, 'from:' || CAST(m.id AS VARCHAR(20)), "
        "'carried from customer ' || CAST(m.absorbed AS VARCHAR(20)) FROM loyalty_moving m",
        now=now,
    )
    add_to_accounts(
        connection,
        "SELECT absorbed AS customer_id, -left_ AS points FROM loyalty_moving "
        "UNION ALL SELECT survivor, left_ FROM loyalty_moving",
        now,
    )
    return int(count), int(points)
