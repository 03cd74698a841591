"""Exports of other systems → canonical frames (text columns, `__line` kept).

CDNOW: the transaction files of the customer-lifetime-value literature. Shopify: the orders
CSV export (one row per line item; order fields only on an order's first row).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from relmark.errors import InvalidInput
from relmark.ingest.contracts import fold
from relmark.ingest.readers import LINE, RawTable


@dataclass
class Bundle:
    """What one file brings: orders, and for some formats the customers and products in it."""

    orders: pl.DataFrame
    customers: pl.DataFrame | None = None
    products: pl.DataFrame | None = None


def cdnow(table: RawTable) -> Bundle:
    """Order ids are `customer-date-n`: stable across re-imports of the same file."""
    frame = table.frame.with_columns(
        (pl.col("customer_id").str.strip_chars_start("0").replace("", "0")).alias("customer_id")
    ).with_columns(
        pl.format(
            "{}-{}-{}",
            "customer_id",
            "date",
            pl.int_range(pl.len()).over("customer_id", "date") + 1,
        ).alias("order_id"),
        pl.col("date").alias("ordered_at"),
    )
    return Bundle(frame.select("order_id", "customer_id", "ordered_at", "quantity", "amount", LINE))


SHOPIFY_REQUIRED = ("name", "created_at", "lineitem_quantity", "lineitem_price")
SHOPIFY_ORDER_FIELDS = (
    "email",
    "financial_status",
    "currency",
    "total",
    "discount_amount",
    "created_at",
    "source",
    "billing_name",
    "billing_phone",
    "phone",
    "billing_city",
    "billing_zip",
    "billing_province",
    "billing_country",
    "billing_address1",
    "accepts_marketing",
    "accepts_email_marketing",
    "email_marketing_consent_updated_at",
    "accepts_marketing_updated_at",
)


def shopify(table: RawTable) -> Bundle:
    """Orders, customers (keyed by e-mail, or `guest:ORDER` without one) and products."""
    frame = table.frame.rename({c: fold(c) for c in table.frame.columns if c != LINE})
    missing = [c for c in SHOPIFY_REQUIRED if c not in frame.columns]
    if missing:
        raise InvalidInput.single(
            table.where, f"not a Shopify orders export: missing column(s) {', '.join(missing)}", 1
        )
    present = [c for c in SHOPIFY_ORDER_FIELDS if c in frame.columns]
    blank = {
        c: pl.when(pl.col(c).str.strip_chars() == "").then(None).otherwise(pl.col(c))
        for c in present
    }
    frame = frame.with_columns(**blank).with_columns(
        [pl.col(c).drop_nulls().first().over("name") for c in present]
    )

    def col(name: str) -> pl.Expr:
        return pl.col(name) if name in frame.columns else pl.lit(None, pl.String)

    email = col("email").str.strip_chars().str.to_lowercase()
    key = pl.coalesce(email, pl.format("guest:{}", pl.col("name"))).alias("customer_id")
    sku = pl.coalesce(
        pl.when(col("lineitem_sku").str.strip_chars() != "").then(col("lineitem_sku")),
        col("lineitem_name").str.to_lowercase().str.replace_all(r"[^\w]+", "-"),
    ).alias("sku")
    orders = frame.select(
        pl.col("name").alias("order_id"),
        key,
        pl.col("created_at").alias("ordered_at"),
        col("total").alias("amount"),
        col("currency"),
        col("discount_amount").alias("discount"),
        col("financial_status").alias("status"),
        col("source").alias("channel"),
        sku,
        pl.col("lineitem_quantity").alias("quantity"),
        pl.col("lineitem_price").alias("unit_price"),
        pl.col(LINE),
    )
    full_name = pl.coalesce(col("billing_name"), pl.lit("")).str.strip_chars()
    customers = (
        frame.select(
            key,
            email.alias("email"),
            pl.coalesce(col("billing_phone"), col("phone")).alias("phone"),
            full_name.str.extract(r"^(\S+)").alias("first_name"),
            full_name.str.extract(r"^\S+\s+(.+)$").alias("last_name"),
            col("billing_city").alias("city"),
            col("billing_zip").alias("postcode"),
            col("billing_province").alias("region"),
            col("billing_country").alias("country"),
            col("billing_address1").alias("address"),
            pl.coalesce(col("accepts_email_marketing"), col("accepts_marketing")).alias(
                "email_consent"
            ),
            # the statement's own time when the export has it (else the import's time)
            pl.coalesce(
                col("email_marketing_consent_updated_at"), col("accepts_marketing_updated_at")
            ).alias("email_consent_at"),
            pl.col(LINE),
            pl.col("created_at").alias("_at"),
        )
        .sort("_at", LINE)
        .unique("customer_id", keep="last", maintain_order=True)
        .drop("_at")
        .sort(LINE)
    )
    products = frame.select(
        sku,
        col("lineitem_name").alias("name"),
        col("lineitem_price").alias("price"),
        col("currency"),
        pl.col(LINE),
    ).unique("sku", keep="first", maintain_order=True)
    return Bundle(orders, customers, products)
