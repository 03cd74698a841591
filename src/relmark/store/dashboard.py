"""What the dashboard's charts read: the RFM grid, CLV values, profits (latest run)."""

from __future__ import annotations

import polars as pl
from sqlalchemy import Connection, func, select

from relmark.store.bulk import fetch_frame
from relmark.store.customers import latest_run
from relmark.store.models import CustomerScore, Order


def rfm_grid(connection: Connection) -> dict[tuple[int, int], int]:
    """(R, FM) → customers, FM = round((F + M) / 2) as the segments use it."""
    run_id = latest_run(connection)
    fm = func.round((CustomerScore.f + CustomerScore.m) / 2.0)
    rows = connection.execute(
        select(CustomerScore.r, fm, func.count())
        .where(CustomerScore.run_id == run_id)
        .group_by(CustomerScore.r, fm)
    )
    return {(int(r), int(f)): int(n) for r, f, n in rows}


def value_columns(connection: Connection) -> pl.DataFrame:
    """CLV and profit of every scored customer (minor units)."""
    run_id = latest_run(connection)
    return fetch_frame(
        connection,
        select(CustomerScore.clv_minor, CustomerScore.profit_minor).where(
            CustomerScore.run_id == run_id
        ),
        {"clv_minor": pl.Int64, "profit_minor": pl.Int64},
    )


def revenue_by_month(connection: Connection, months: int = 12) -> list[tuple[str, str, int]]:
    """(YYYY-MM, currency, revenue in minor units) of completed orders, the newest
    `months` months that have any."""
    month = (
        func.to_char(Order.ordered_at, "YYYY-MM")
        if connection.dialect.name == "postgresql"
        else func.strftime("%Y-%m", Order.ordered_at)
    )
    rows = connection.execute(
        select(month, Order.currency, func.sum(Order.amount_minor))
        .where(Order.status == "completed")
        .group_by(month, Order.currency)
        .order_by(month.desc())
    ).all()
    recent = sorted({r[0] for r in rows}, reverse=True)[:months]
    return sorted((str(m), str(c), int(v)) for m, c, v in rows if m in recent)
