"""What planning reads to find occasions: purchases, dated customers and the latest scores.

Each read takes `staged`: when True only the customers staged in `outbox.STAGED_IDS` are
read (joined in SQL), so a plan for a few arriving customers costs what those customers
cost, not what the whole store does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import Connection, Select, bindparam, column, func, or_, select, table, text

from relmark.enums import PURCHASE_STATUSES
from relmark.store.bulk import fetch_frame, stage
from relmark.store.models import Customer, Order, OrderLine, Product
from relmark.store.outbox import STAGED_IDS
from relmark.store.types import UTCDateTime

UTC_US = pl.Datetime("us", "UTC")
ORDER_SCHEMA = {"order_id": pl.Int64, "customer_id": pl.Int64, "ordered_at": UTC_US}


def _only_staged(statement: Select[Any], customer_id: Any, staged: bool) -> Select[Any]:
    if not staged:
        return statement
    wanted = table(STAGED_IDS, column("customer_id"))
    return statement.join(wanted, wanted.c.customer_id == customer_id)


def purchases(
    connection: Connection, start: datetime, end: datetime, *, staged: bool = False
) -> pl.DataFrame:
    """Purchases (completed or partially refunded orders) placed in (start, end]: each may
    occasion a thank-you or a check."""
    statement = select(Order.id, Order.customer_id, Order.ordered_at).where(
        Order.status.in_(PURCHASE_STATUSES), Order.ordered_at > start, Order.ordered_at <= end
    )
    return fetch_frame(connection, _only_staged(statement, Order.customer_id, staged), ORDER_SCHEMA)


def first_howto_purchases(
    connection: Connection, start: datetime, end: datetime, *, staged: bool = False
) -> pl.DataFrame:
    """Lines of purchases in (start, end] for a product with a how-to video that the
    customer had never bought before that order.

    Two small queries instead of one correlated one: the window's lines, then every purchase
    of those products by those customers (through the customer index), first one wins."""
    schema = {**ORDER_SCHEMA, "product_id": pl.Int64}
    with_video = (
        select(Order.id, Order.customer_id, Order.ordered_at, OrderLine.product_id)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .join(Product, Product.id == OrderLine.product_id)
        .where(Product.howto_url.is_not(None), Order.status.in_(PURCHASE_STATUSES))
    )
    in_window = with_video.where(Order.ordered_at > start, Order.ordered_at <= end).distinct()
    window = fetch_frame(connection, _only_staged(in_window, Order.customer_id, staged), schema)
    if window.is_empty():
        return window
    stage(connection, "stg_howto_customers", window.select("customer_id").unique())
    # Driven from the buyers through the customer index: written as CROSS JOINs, which
    # SQLite keeps in this order (left to itself it scanned every order line of the store)
    # and PostgreSQL plans freely.
    earlier = fetch_frame(
        connection,
        text(
            "SELECT o.id, o.customer_id, o.ordered_at, l.product_id "
            "FROM stg_howto_customers b CROSS JOIN orders o CROSS JOIN order_lines l "
            "CROSS JOIN products p WHERE o.customer_id = b.customer_id AND l.order_id = o.id "
            "AND p.id = l.product_id AND p.howto_url IS NOT NULL "
            "AND o.status IN :statuses AND o.ordered_at <= :end"
        ).bindparams(bindparam("statuses", expanding=True), bindparam("end", type_=UTCDateTime())),
        schema,
        {"statuses": list(PURCHASE_STATUSES), "end": end},
    )
    first = earlier.sort("ordered_at", "order_id").unique(
        ["customer_id", "product_id"], keep="first"
    )
    return window.join(first.select("order_id", "product_id"), on=["order_id", "product_id"])


def _month_day(connection: Connection, value: Any) -> Any:
    if connection.dialect.name == "postgresql":
        return func.to_char(value, "MM-DD")
    return func.strftime("%m-%d", value)


def customers_with_dates(
    connection: Connection, month_days: list[str], *, staged: bool = False
) -> pl.DataFrame:
    """Live customers whose birthday or first-purchase anniversary falls on one of the
    month-days (MM-DD); the caller narrows to the exact local day."""
    statement = select(
        Customer.id, Customer.birthday, Customer.customer_since, Customer.timezone
    ).where(
        Customer.merged_into_id.is_(None),
        or_(
            _month_day(connection, Customer.birthday).in_(month_days),
            _month_day(connection, Customer.customer_since).in_(month_days),
        ),
    )
    return fetch_frame(
        connection,
        _only_staged(statement, Customer.id, staged),
        {
            "customer_id": pl.Int64,
            "birthday": pl.Date,
            "customer_since": UTC_US,
            "timezone": pl.String,
        },
    )
