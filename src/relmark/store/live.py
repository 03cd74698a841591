"""The profile that holds a person now. A merge marks the absorbed profile with
`merged_into_id`; survivors may merge again, so ids in old links, exports and requests are
followed along the chain to the live profile."""

from __future__ import annotations

from sqlalchemy import Connection, select

from relmark.store.models import Customer

#: Common table expressions for `WITH RECURSIVE`, defining `merged_live(start_id, live_id)`:
#: every merged profile and the live profile at the end of its chain (A→B→C gives A→C and
#: B→C). Only merged profiles are walked (few, and indexed), so a reader of a million rows
#: joins `LEFT JOIN merged_live ml ON ml.start_id = x.customer_id` and takes
#: `COALESCE(ml.live_id, x.customer_id)`. UNION stops a cycle (never written by relmark).
MERGED_LIVE = (
    "merged_chain(start_id, cur_id) AS ("
    "SELECT id, merged_into_id FROM customers WHERE merged_into_id IS NOT NULL "
    "UNION SELECT m.start_id, c.merged_into_id FROM merged_chain m "
    "JOIN customers c ON c.id = m.cur_id WHERE c.merged_into_id IS NOT NULL), "
    "merged_live(start_id, live_id) AS (SELECT m.start_id, m.cur_id FROM merged_chain m "
    "JOIN customers c ON c.id = m.cur_id WHERE c.merged_into_id IS NULL)"
)


def with_merged_live(select_sql: str) -> str:
    """`select_sql` preceded by the `merged_live` CTE (see MERGED_LIVE)."""
    return f"WITH RECURSIVE {MERGED_LIVE} {select_sql}"


def live_id_of(customer_column: str, alias: str = "ml") -> str:
    """The live profile of `customer_column`, given `LEFT JOIN merged_live {alias}`."""
    return f"COALESCE({alias}.live_id, {customer_column})"


def live_profile(connection: Connection, customer_id: int) -> int | None:
    """Follow merges from `customer_id` to the live profile; None for an unknown id."""
    current, seen = customer_id, set()
    while current not in seen:
        seen.add(current)
        row = connection.execute(
            select(Customer.merged_into_id).where(Customer.id == current)
        ).first()
        if row is None:
            return None
        if row[0] is None:
            return current
        current = int(row[0])
    return current  # a cycle (never written by relmark): stop where it closes


def absorbed_into(connection: Connection, customer_id: int) -> list[int]:
    """The profile and every profile merged into it, however indirectly: one person's
    timeline, export or erasure spans the ids they had before identity resolution."""
    found, frontier = [customer_id], [customer_id]
    while frontier:
        frontier = list(
            connection.execute(
                select(Customer.id).where(Customer.merged_into_id.in_(frontier))
            ).scalars()
        )
        found += frontier
    return found
