"""Scoring runs in the store: the inputs scoring reads, and the scores later stages read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import Connection, bindparam, case, desc, func, insert, select, text

from relmark.enums import EventKind
from relmark.store.bulk import append, foreign_keys_checked_once
from relmark.store.dialects import dialect_of
from relmark.store.models import Customer, CustomerScore, Order, OrderLine, Product, ScoreRun
from relmark.store.types import UTCDateTime


def _frame(
    connection: Connection,
    statement: Any,
    schema: dict[str, Any],
    params: dict[str, Any] | None = None,
) -> pl.DataFrame:
    rows = connection.execute(statement, params or {}).fetchall()
    return pl.DataFrame(rows, schema=schema, orient="row")


def scoring_orders(connection: Connection, as_of: datetime) -> pl.DataFrame:
    """Every order placed up to `as_of`, by customer, with money in minor units.

    An order's cost is its own when the file gave one, else the sum of its lines' product
    unit costs when every line has one and they share a currency, else unknown (scoring then
    uses a default margin). `cost_currency` says which currency the cost is in: the order's
    for its own cost, the products' for a cost from its lines.
    """
    line = OrderLine.__table__.alias("l")
    product = Product.__table__.alias("p")
    lines = line.join(product, product.c.id == line.c.product_id)
    from_lines = (
        select(
            case(
                (
                    (func.count() == func.count(product.c.unit_cost_minor))
                    & (func.count(func.distinct(product.c.currency)) <= 1),
                    func.sum(line.c.quantity * product.c.unit_cost_minor),
                )
            )
        )
        .select_from(lines)
        .where(line.c.order_id == Order.id)
        .scalar_subquery()
    )
    lines_currency = (
        select(func.min(product.c.currency))
        .select_from(lines)
        .where(line.c.order_id == Order.id)
        .scalar_subquery()
    )
    statement = select(
        Order.customer_id,
        Order.ordered_at,
        Order.currency,
        Order.amount_minor,
        Order.discount_minor,
        func.coalesce(Order.cost_minor, from_lines),
        case(
            (Order.cost_minor.is_(None), func.coalesce(lines_currency, Order.currency)),
            else_=Order.currency,
        ),
        Order.status,
    ).where(Order.ordered_at <= as_of, Order.customer_id.not_in(_restricted()))
    return _frame(
        connection,
        statement,
        {
            "customer_id": pl.Int64,
            "ordered_at": pl.Datetime("us", "UTC"),
            "currency": pl.String,
            "amount_minor": pl.Int64,
            "discount_minor": pl.Int64,
            "cost_minor": pl.Int64,
            "cost_currency": pl.String,
            "status": pl.String,
        },
    )


def _restricted() -> Any:
    """Restricted customers (GDPR art. 18) are stored, not profiled: their orders are no
    input to any model fit, and they get no score row (views say "restricted" instead).
    An erased customer's shell is restricted too but anonymous: its orders stay model input,
    so an erasure leaves revenue and the fitted models as they were."""
    return select(Customer.id).where(
        Customer.restricted_at.is_not(None), Customer.erased_at.is_(None)
    )


def restricted_count(connection: Connection) -> int:
    return int(
        connection.execute(
            select(func.count()).where(
                Customer.restricted_at.is_not(None),
                Customer.erased_at.is_(None),
                Customer.merged_into_id.is_(None),
            )
        ).scalar_one()
    )


def support_minutes(connection: Connection, as_of: datetime) -> pl.DataFrame:
    statement = text(
        "SELECT customer_id, minutes FROM support_contacts WHERE at <= :as_of "
        "AND customer_id NOT IN (SELECT id FROM customers "
        "WHERE restricted_at IS NOT NULL AND erased_at IS NULL)"
    ).bindparams(bindparam("as_of", type_=UTCDateTime()))
    return _frame(
        connection, statement, {"customer_id": pl.Int64, "minutes": pl.Int64}, {"as_of": as_of}
    )


def save_run(
    connection: Connection, run: dict[str, Any], scores: pl.DataFrame, *, now: datetime
) -> tuple[int, int]:
    """Store a run and its scores; log segment changes against the previous run.

    Returns (run id, customers whose segment changed).
    """
    previous = latest_run_id(connection)
    run_id = int(
        connection.execute(
            insert(ScoreRun).values(created_at=now, **run).returning(ScoreRun.id)
        ).scalar_one()
    )
    append(
        connection,
        CustomerScore.__table__,  # type: ignore[arg-type]
        scores.with_columns(pl.lit(run_id).alias("run_id")),
    )
    if previous is None:
        return run_id, 0
    parameters = dialect_of(connection).json_object(
        {"from": "p.segment", "to": "n.segment", "run_id": "n.run_id"}
    )
    with foreign_keys_checked_once(connection, "customer_events", rows=scores.height):
        moved = connection.execute(
            text(
                "INSERT INTO customer_events (at, customer_id, kind, parameters) "
                f"SELECT :now, n.customer_id, '{EventKind.SEGMENT_CHANGED}', {parameters} "
                "FROM customer_scores n JOIN customer_scores p ON p.customer_id = n.customer_id "
                "AND p.run_id = :previous WHERE n.run_id = :run AND p.segment <> n.segment"
            ).bindparams(bindparam("now", type_=UTCDateTime())),
            {"now": now, "previous": previous, "run": run_id},
        )
    return run_id, int(moved.rowcount or 0)


def latest_run_id(connection: Connection) -> int | None:
    return connection.execute(select(func.max(ScoreRun.id))).scalar_one_or_none()


def latest_reasons(connection: Connection) -> dict[str, str | None]:
    """Why the latest run's P(alive) and CLV are empty, where they are: p_alive_reason,
    clv_reason (both None when every value is there or nothing was scored)."""
    row = connection.execute(
        select(ScoreRun.p_alive_reason, ScoreRun.clv_reason).order_by(ScoreRun.id.desc()).limit(1)
    ).first()
    if row is None:
        return {"p_alive_reason": None, "clv_reason": None}
    return {"p_alive_reason": row[0], "clv_reason": row[1]}


def run_info(connection: Connection, run_id: int) -> dict[str, Any]:
    row = connection.execute(select(ScoreRun).where(ScoreRun.id == run_id)).mappings().one()
    return dict(row)


SORTS = {
    "clv": CustomerScore.clv_minor,
    "p_alive": CustomerScore.p_alive,
    "profit": CustomerScore.profit_minor,
    "revenue": CustomerScore.revenue_minor,
}


def list_scores(
    connection: Connection,
    run_id: int,
    *,
    segment: str | None = None,
    sort: str = "clv",
    limit: int = 20,
) -> list[dict[str, Any]]:
    """Customers of a run with their scores, best first by `sort`."""
    statement = (
        select(
            Customer.first_name, Customer.last_name, Customer.email, Customer.country, CustomerScore
        )
        .join(Customer, Customer.id == CustomerScore.customer_id)
        .where(CustomerScore.run_id == run_id, Customer.restricted_at.is_(None))
        .order_by(desc(SORTS[sort]).nulls_last(), CustomerScore.customer_id)
        .limit(limit)
    )
    if segment:
        statement = statement.where(CustomerScore.segment == segment)
    return [dict(row) for row in connection.execute(statement).mappings()]


def segment_counts(connection: Connection, run_id: int) -> dict[str, int]:
    rows = connection.execute(
        select(CustomerScore.segment, func.count())
        .where(CustomerScore.run_id == run_id)
        .group_by(CustomerScore.segment)
        .order_by(func.count().desc())
    )
    return {segment: int(n) for segment, n in rows}


def run_values(connection: Connection, run_id: int) -> pl.DataFrame:
    """customer_id, segment and profit (minor units) of every customer of a run."""
    return _frame(
        connection,
        select(CustomerScore.customer_id, CustomerScore.segment, CustomerScore.profit_minor).where(
            CustomerScore.run_id == run_id
        ),
        {"customer_id": pl.Int64, "segment": pl.String, "profit_minor": pl.Int64},
    )


def run_ids(connection: Connection) -> list[int]:
    return [int(r) for r in connection.execute(select(ScoreRun.id).order_by(ScoreRun.id)).scalars()]
