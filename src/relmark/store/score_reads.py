"""What planning reads of the latest score run, without reading the whole run.

A score-triggered playbook looks at every scored customer, but its audience takes a few: the
planner asks for the customers some audience could take (a condition per playbook, judged by
the database) and reads the score values of the candidates only. On a 1M-customer store that
turns a million-row read into one of the customers the audiences keep.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import polars as pl
from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    cast,
    column,
    func,
    or_,
    select,
    table,
    union,
)

from relmark.store.bulk import fetch_frame, stage
from relmark.store.models import Customer, CustomerScore, ScoreRun

SCORE_SCHEMA = {
    "customer_id": pl.Int64,
    "segment": pl.String,
    "p_alive": pl.Float64,
    "clv_minor": pl.Int64,
    "revenue_minor": pl.Int64,
    "orders": pl.Int64,
    "below_standard": pl.Boolean,
}
PROMOTERS = "stg_plan_promoters"


def latest_run(connection: Connection) -> int | None:
    return connection.execute(select(func.max(ScoreRun.id))).scalar_one_or_none()


def _live(statement: Select, run_id: int) -> Select:
    """Scores of the run for customers still live: merged profiles and restricted ones
    (scores from before a restriction stay unused) are left out.

    The few profiles that are not live are found through their indexes and left out by a
    set the database builds once, not by a lookup of a million customer rows."""
    gone = union(
        select(Customer.id).where(Customer.merged_into_id.is_not(None)),
        select(Customer.id).where(Customer.restricted_at.is_not(None)),
    )
    return statement.where(
        CustomerScore.run_id == run_id, CustomerScore.customer_id.not_in(select(gone.subquery()))
    )


def top_threshold(connection: Connection, run_id: int, name: str, share: float) -> float:
    """The lowest value still inside the top `share` of the live scored customers' values
    of `name` (nulls left out); infinity when nobody has one."""
    value = getattr(CustomerScore, name)
    count = connection.execute(_live(select(func.count(value)), run_id)).scalar_one()
    if not count:
        return math.inf
    offset = max(0, math.ceil(share * count) - 1)
    found = connection.execute(
        _live(select(value), run_id)
        .where(value.is_not(None))
        .order_by(value.desc())
        .limit(1)
        .offset(offset)
    ).scalar_one()
    return float(found)


def stage_promoters(connection: Connection, customer_ids: pl.Series) -> Select[tuple[int]]:
    """Stage the promoters so conditions can name them; a query of their ids."""
    stage(
        connection,
        PROMOTERS,
        pl.DataFrame({"customer_id": customer_ids.cast(pl.Int64).unique().sort()}),
        index=["customer_id"],
    )
    return select(table(PROMOTERS, column("customer_id")).c.customer_id)


def customers_matching(
    connection: Connection,
    run_id: int,
    conditions: Mapping[str, ColumnElement[bool]],
    staged: str | None = None,
) -> pl.DataFrame:
    """The score values (SCORE_SCHEMA), then one boolean column per named condition, of the
    live scored customers meeting at least one condition (of those in the `staged` table, if
    named). The values come with the scan: no second look-up per customer later."""
    names = list(conditions)
    if not names:
        return pl.DataFrame(schema=SCORE_SCHEMA)
    flags = [
        func.coalesce(cast(conditions[n], Integer), 0).label(f"c{i}") for i, n in enumerate(names)
    ]
    statement = _live(select(*_values(), *flags), run_id).where(or_(*conditions.values()))
    if staged is not None:
        ids = table(staged, column("customer_id"))
        statement = statement.join(ids, ids.c.customer_id == CustomerScore.customer_id)
    schema = {**SCORE_SCHEMA, **{f"c{i}": pl.Int64 for i in range(len(names))}}
    frame = fetch_frame(connection, statement, schema)
    return frame.select(
        *SCORE_SCHEMA, *[(pl.col(f"c{i}") == 1).alias(n) for i, n in enumerate(names)]
    )


def _values() -> list[ColumnElement[object]]:
    """The score columns planning judges audiences and profitability by (SCORE_SCHEMA)."""
    return [
        CustomerScore.customer_id,
        CustomerScore.segment,
        CustomerScore.p_alive,
        CustomerScore.clv_minor,
        CustomerScore.revenue_minor,
        CustomerScore.orders,
        CustomerScore.below_standard,
    ]


def scores_of_staged(connection: Connection, run_id: int | None, staged: str) -> pl.DataFrame:
    """The run's values for the staged customers still live (empty if never scored)."""
    if run_id is None:
        return pl.DataFrame(schema=SCORE_SCHEMA)
    ids = table(staged, column("customer_id"))
    statement = _live(
        select(*_values()).join(ids, ids.c.customer_id == CustomerScore.customer_id), run_id
    )
    return fetch_frame(connection, statement, SCORE_SCHEMA)
