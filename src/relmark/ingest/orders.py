"""Order files may hold one row per order or one row per line; both become orders + lines."""

from __future__ import annotations

import polars as pl

from relmark.enums import OrderStatus
from relmark.ingest.contracts import ORDER_HEADER_COLUMNS
from relmark.ingest.readers import LINE

PROBLEMS = {LINE: pl.Int64, "column": pl.String, "message": pl.String}


def check_line_consistency(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """In a line-level file, lines of one order must agree on the order's fields.

    A blank order field on a later line inherits the order's value (exports often print it
    once); a different value is a problem on that line.
    """
    if "sku" not in frame.columns:
        return frame, pl.DataFrame(schema=PROBLEMS)
    headers = [c for c in ORDER_HEADER_COLUMNS if c in frame.columns]
    stripped = frame.with_columns([pl.col(c).str.strip_chars().replace("", None) for c in headers])
    order = pl.col("order_id").str.strip_chars()
    problems = []
    for name in headers:
        first = pl.col(name).drop_nulls().first().over(order)
        first_line = pl.col(LINE).filter(pl.col(name).is_not_null()).first().over(order)
        problems.append(
            stripped.with_columns(first.alias("_first"), first_line.alias("_first_line"))
            .filter(pl.col(name).is_not_null() & (pl.col(name) != pl.col("_first")))
            .select(
                pl.col(LINE),
                pl.lit(name).alias("column"),
                pl.format(
                    "'{}' differs from '{}' given for order '{}' on line {}",
                    pl.col(name),
                    pl.col("_first"),
                    order,
                    pl.col("_first_line"),
                ).alias("message"),
            )
        )
    filled = stripped.with_columns([pl.col(c).drop_nulls().first().over(order) for c in headers])
    return filled, pl.concat(problems) if problems else pl.DataFrame(schema=PROBLEMS)


def assemble_orders(typed: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """Typed rows → one row per order (minor units) and, for line-level files, its lines."""
    columns = typed.columns
    money = {c: f"{c}_minor" for c in ("amount", "discount", "cost") if c in columns}
    typed = typed.rename(money)
    if "discount_minor" not in typed.columns:
        typed = typed.with_columns(pl.lit(0, pl.Int64).alias("discount_minor"))
    typed = typed.with_columns(pl.col("discount_minor").fill_null(0))
    if "status" not in typed.columns:
        typed = typed.with_columns(pl.lit(OrderStatus.COMPLETED.value).alias("status"))
    if "sku" not in columns:
        return typed.filter(pl.col("order_id").is_not_null()), None
    lines = typed.select(
        pl.col("order_id").alias("order_external_id"),
        (pl.int_range(pl.len()).over("order_id") + 1).cast(pl.Int64).alias("line_no"),
        pl.col("sku"),
        pl.col("quantity"),
        pl.col("unit_price").alias("unit_price_minor"),
        pl.col(LINE),
    )
    header = [
        c for c in typed.columns if c not in ("sku", "quantity", "unit_price", LINE, "order_id")
    ]
    line_total = (pl.col("quantity") * pl.col("unit_price")).sum()
    orders = typed.group_by("order_id", maintain_order=True).agg(
        [pl.col(c).first() for c in header]
        + [
            pl.col("quantity").sum().alias("quantity"),
            line_total.alias("_lines_total"),
            pl.col(LINE).first(),
        ]
    )
    amount = pl.col("_lines_total") - pl.col("discount_minor")
    if "amount_minor" in orders.columns:
        amount = pl.coalesce(pl.col("amount_minor"), amount)
    orders = orders.with_columns(amount.alias("amount_minor")).drop("_lines_total")
    return orders, lines
