"""Audience conditions on scores as SQL: which scored customers an audience could take.

The planner asks the database for these customers instead of reading the whole score run.
The SQL is a superset of the audience: what it cannot judge cheaply (languages, categories,
partners) passes, and a missing model value passes (the planner holds that customer with the
reason). audience.py's Polars expressions, run on the rows read, stay the only judge; a test
compares plans with and without this filter.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import reduce

from sqlalchemy import ColumnElement, Select, and_, false, or_, true

from relmark.interact.playbook import Audience, Playbook
from relmark.store.models import CustomerScore

#: (column, share) → the lowest value inside that top share (store.score_reads.top_threshold).
Thresholds = Callable[[str, float], float]


def shares_needed(books: list[Playbook]) -> set[tuple[str, float]]:
    """(column, share) of every "top share" condition the playbooks' audiences set."""
    needed: set[tuple[str, float]] = set()
    for audience in (a for b in books for a in b.audience):
        if audience.clv_top_share is not None:
            needed.add(("clv_minor", audience.clv_top_share))
        if audience.revenue_top_share is not None:
            needed.add(("revenue_minor", audience.revenue_top_share))
    return needed


def could_match(
    book: Playbook,
    threshold: Thresholds,
    promoters: Select[tuple[int]] | None,
) -> ColumnElement[bool]:
    """True for a scored customer whom some audience of `book` could take."""
    return or_(*[_audience(a, threshold, promoters) for a in book.audience])


def _audience(
    audience: Audience, threshold: Thresholds, promoters: Select[tuple[int]] | None
) -> ColumnElement[bool]:
    score = CustomerScore
    conditions: list[ColumnElement[bool]] = []

    def model(value: ColumnElement[bool], column: ColumnElement[object]) -> None:
        conditions.append(or_(column.is_(None), value))

    if audience.min_p_alive is not None:
        model(score.p_alive >= audience.min_p_alive, score.p_alive)
    if audience.max_p_alive is not None:
        model(score.p_alive < audience.max_p_alive, score.p_alive)
    if audience.clv_top_share is not None:
        at_least = threshold("clv_minor", audience.clv_top_share)
        model(_top(score.clv_minor, at_least), score.clv_minor)
    if audience.segments is not None:
        conditions.append(score.segment.in_(audience.segments))
    if audience.exclude_segments is not None:
        conditions.append(score.segment.not_in(audience.exclude_segments))
    if audience.revenue_top_share is not None:
        at_least = threshold("revenue_minor", audience.revenue_top_share)
        conditions.append(_top(score.revenue_minor, at_least))
    if audience.min_orders is not None:
        conditions.append(score.orders >= audience.min_orders)
    if audience.promoter is not None and promoters is not None:
        named = score.customer_id.in_(promoters)
        conditions.append(named if audience.promoter else ~named)
    return reduce(and_, conditions) if conditions else true()


def _top(column: ColumnElement[int], at_least: float) -> ColumnElement[bool]:
    """`column >= at_least`; nobody qualifies when nobody has a value (infinity)."""
    return false() if math.isinf(at_least) else column >= at_least
