"""Orders name customers, partners and products by their outside ids; find ours or say which."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import polars as pl
from sqlalchemy import Connection

from relmark.errors import InvalidInput, Problem
from relmark.ingest.readers import LINE
from relmark.store import loading

if TYPE_CHECKING:
    from relmark.ingest.importer import Plan


def resolve_order_references(
    connection: Connection,
    plan: Plan,
    *,
    source: str,
    import_id: int,
    where: str,
    now: datetime,
    create_missing: bool,
    skip_invalid: bool,
) -> tuple[pl.DataFrame, pl.DataFrame | None, dict[str, int]]:
    """Replace outside ids with store ids; unknown ones are problems (or created on request)."""
    created: dict[str, int] = {}
    orders = plan.main
    problems: list[pl.DataFrame] = []

    keys = loading.customer_keys(connection, source)
    missing = orders.join(keys, on="customer_id", how="anti")
    if missing.height and create_missing:
        stubs = missing.group_by("customer_id", maintain_order=True).agg(pl.col(LINE).first())
        created["customers_created"] = loading.load_customers(
            connection, stubs, source=source, import_id=import_id, where=where, now=now
        )["inserted"]
        keys = loading.customer_keys(connection, source)
    elif missing.height:
        problems.append(
            missing.select(
                pl.col(LINE),
                pl.lit("customer_id").alias("column"),
                pl.format(
                    "customer '{}' is not known in source '{}': import customers first, use "
                    "--source NAME, or pass --create-missing",
                    "customer_id",
                    pl.lit(source),
                ).alias("message"),
            )
        )
    orders = orders.join(keys, on="customer_id", how="left")

    if "partner_id" in orders.columns:
        partners = loading.key_map(connection, "partners", "external_id").rename(
            {"external_id": "partner_id", "id": "partner_pk"}
        )
        orders = orders.join(partners, on="partner_id", how="left")
        problems.append(
            orders.filter(
                pl.col("partner_id").is_not_null() & pl.col("partner_pk").is_null()
            ).select(
                pl.col(LINE),
                pl.lit("partner_id").alias("column"),
                pl.format("partner '{}' is not known: import partners first", "partner_id").alias(
                    "message"
                ),
            )
        )
        orders = orders.drop("partner_id").rename({"partner_pk": "partner_id"})

    lines = plan.lines
    if lines is not None:
        products = loading.key_map(connection, "products", "sku")
        unknown = lines.join(products, on="sku", how="anti")
        if unknown.height and create_missing:
            stubs = unknown.group_by("sku", maintain_order=True).agg(pl.col(LINE).first())
            created["products_created"] = loading.load_products(
                connection, stubs.with_columns(pl.col("sku").alias("name"))
            )["inserted"]
            products = loading.key_map(connection, "products", "sku")
        elif unknown.height:
            problems.append(
                unknown.select(
                    pl.col(LINE),
                    pl.lit("sku").alias("column"),
                    pl.format(
                        "product '{}' is not known: import products first, or pass "
                        "--create-missing",
                        "sku",
                    ).alias("message"),
                )
            )
        lines = lines.join(products.rename({"id": "product_id"}), on="sku", how="left")

    found = pl.concat(problems) if problems else None
    if found is not None and found.height:
        plan.problems = pl.concat([plan.problems, found])
        if not skip_invalid:
            ordered = found.sort(LINE)
            raise InvalidInput(
                [Problem(where, m, line, c) for line, c, m in ordered.head(20).iter_rows()],
                total=ordered.height,
            )
        plan.main, plan.lines = orders, lines
        plan.drop(found)
        orders, lines = plan.main, plan.lines
    orders = (
        orders.filter(pl.col("source_record_id").is_not_null())
        .rename({"order_id": "external_id"})
        .drop("customer_id")
        .rename({"customer_pk": "customer_id"})
    )
    return orders, lines, created
