"""The profile that holds a person now. A merge marks the absorbed profile with
`merged_into_id`; survivors may merge again, so ids in old links, exports and requests are
followed along the chain to the live profile."""

from __future__ import annotations

from sqlalchemy import Connection, select

from relmark.store.models import Customer


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
