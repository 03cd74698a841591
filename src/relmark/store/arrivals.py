"""What arrived since the engine's last arrival plan: new orders and customers, found by id.

Ids come from the primary key, so the tick's look (`pending`) is two index probes instead of
counting millions of rows. Ids alone are not enough on PostgreSQL: a transaction takes its
ids when it inserts and may commit after rows with higher ids were seen (a long import
beside a quick tracked order). So every id below the mark that was not there when read is
kept as a hole, with the transaction horizon of that moment, and looked at again each tick
until it is filled or every transaction that could still fill it has ended
(`pg_snapshot_xmin` has passed the horizon: a rolled-back insert leaves a hole for good).
Too many holes at once collapse into one whole-store look once those transactions end.
SQLite has one writer at a time, so its ids commit in order and it keeps no holes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Connection, func, or_, select, text

from relmark.store.models import Customer, Order

#: Beyond this many holes they collapse into one whole-store look (see `Arrivals.whole`).
MAX_HOLES = 500
#: (name, table's id column, the customer column, the mark's key)
KINDS = (
    ("orders", Order.id, Order.customer_id, "order_id"),
    ("customers", Customer.id, Customer.id, "customer_id"),
)


@dataclass
class Arrivals:
    customers: list[int] | None
    """The customers to plan for; None: plan the whole store."""
    orders: int
    new_customers: int
    state: dict[str, Any]
    """The marks to keep: highest ids read, holes still open, a whole-store look pending."""


def marks(connection: Connection) -> dict[str, int]:
    """The highest order and customer ids: one index probe each."""
    return {
        key: int(connection.execute(select(func.max(column))).scalar() or 0)
        for _, column, _, key in KINDS
    }


def _tracks_holes(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def _horizon(connection: Connection, which: str) -> int:
    """The oldest transaction still running (`xmin`) or the next one to start (`xmax`)."""
    return int(
        connection.execute(
            text(f"SELECT pg_snapshot_{which}(pg_current_snapshot())::text")
        ).scalar_one()
    )


def _in_ranges(column: Any, ranges: list[list[int]]) -> Any:
    return or_(*(column.between(lo, hi) for lo, hi, *_ in ranges))


def pending(connection: Connection, seen: dict[str, Any]) -> bool:
    """Whether an arrival plan has anything to do: a higher id, a hole filled, a hole (or
    a whole-store look) whose transactions have all ended. Cheap: index probes only."""
    now = marks(connection)
    if any(now[key] > int(seen.get(key, 0)) for key in now):
        return True
    holes = seen.get("holes") or {}
    if not _tracks_holes(connection) or not (any(holes.values()) or seen.get("whole_after")):
        return False
    horizon = _horizon(connection, "xmin")
    oldest = [x for ranges in holes.values() for *_, x in ranges]
    if seen.get("whole_after"):
        oldest.append(int(seen["whole_after"]))
    if oldest and horizon >= min(oldest):
        return True
    for name, column, _, _ in KINDS:
        if holes.get(name):
            found = connection.execute(
                select(column).where(_in_ranges(column, holes[name])).limit(1)
            ).first()
            if found is not None:
                return True
    return False


def read(connection: Connection, seen: dict[str, Any], limit: int) -> Arrivals:
    """The customers of every order and customer that arrived since `seen`: above its marks
    or in its holes. None (the whole store) when more than `limit` arrived at once or a
    collapsed set of holes is due its look."""
    track = _tracks_holes(connection)
    horizon = _horizon(connection, "xmin") if track else 0
    top = marks(connection)
    holes_before = seen.get("holes") or {}
    whole_after = seen.get("whole_after")
    whole = bool(whole_after) and horizon >= int(whole_after)
    found_customers: set[int] = set()
    counts: dict[str, int] = {}
    rows_by_kind = {}
    for name, column, customer, key in KINDS:
        below = int(seen.get(key, 0))
        ranges = [list(r) for r in holes_before.get(name, [])] if track else []
        looked = ranges + ([[below + 1, top[key], 0]] if top[key] > below else [])
        if not looked:
            rows_by_kind[name] = np.empty(0, dtype=np.int64)
            counts[name] = 0
            continue
        rows = connection.execute(
            select(column, customer).where(_in_ranges(column, looked))
        ).fetchall()
        counts[name] = len(rows)
        found_customers.update(int(c) for _, c in rows if c is not None)
        rows_by_kind[name] = np.sort(np.fromiter((int(i) for i, _ in rows), dtype=np.int64))
    after = _horizon(connection, "xmax") if track else 0
    holes: dict[str, list[list[int]]] = {}
    if track:
        for name, _, _, key in KINDS:
            ids = rows_by_kind[name]
            kept = [
                [lo, hi, x]
                for lo, hi, x in holes_before.get(name, [])
                if x > horizon  # else: every transaction that could fill it has ended
                for lo, hi in _missing(lo, hi, ids)
            ]
            below = int(seen.get(key, 0))
            if top[key] > below:
                kept += [[lo, hi, after] for lo, hi in _missing(below + 1, top[key], ids)]
            holes[name] = kept
    state: dict[str, Any] = {**top, "holes": holes}
    if sum(len(r) for r in holes.values()) > MAX_HOLES:
        # Too scattered to follow one by one: look at the whole store once they have ended.
        newest = max(x for ranges in holes.values() for *_, x in ranges)
        state["holes"], state["whole_after"] = {}, max(newest, int(whole_after or 0))
    elif whole_after and not whole:
        state["whole_after"] = whole_after
    too_many = len(found_customers) > limit
    customers = None if whole or too_many else sorted(found_customers)
    return Arrivals(customers, counts["orders"], counts["customers"], state)


def _missing(lo: int, hi: int, ids: np.ndarray) -> list[tuple[int, int]]:
    """The ranges of [lo, hi] with no id in the sorted `ids`."""
    inside = ids[(ids >= lo) & (ids <= hi)]
    bounds = np.concatenate(([lo - 1], inside, [hi + 1]))
    gaps = np.nonzero(np.diff(bounds) > 1)[0]
    return [(int(bounds[i]) + 1, int(bounds[i + 1]) - 1) for i in gaps]
