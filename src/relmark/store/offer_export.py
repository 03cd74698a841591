"""Offers for the shop, streamed: `relmark offers export` writes a million codes in bounded
memory (rows arrive from a server-side cursor in pages and go straight to the file).

Two layouts:

- `csv`: relmark's own columns (code, kind, status, value, customer, validity, conditions).
  A customer's e-mail travels only when the customer consented to third-party sharing
  (`store.transfer`); a restricted customer's offer keeps its code and terms (the checkout
  must still honour it) but names no customer at all.
- `shopify`: Shopify's admin has no CSV import of discount codes; shops bulk-load them with
  an import app, and the de-facto layout is Matrixify's "Discounts" sheet, whose column
  names we use. Each code is its own discount (value, expiry and use limit differ per code),
  so `Title` is the code itself: rows sharing a Title would become codes of one discount.
  `Command` is MERGE, so importing a newer export updates codes instead of failing on them;
  because MERGE would also bring a closed code back to life at the shop, this layout holds
  only live (`issued`) codes and refuses any other `--status`. Codes closed since an earlier
  import are closed at the shop by the offers webhook (offer.redeemed/expired/voided), not
  by this file.
  `Type` is `Percentage` or `Fixed Amount` and `Value` the positive number off (check the
  sign convention against the app's current template before the first import);
  `Minimum Requirement` is `Subtotal` with the amount in `Minimum Requirement Subtotal`, or
  `None`; `Usage Limit` is the uses the code has left (max_uses - uses) and `Applies Once
  Per Customer` is TRUE only for a single-use code (a multi-use code may be used again);
  `Starts At`/`Ends At` are ISO 8601 in UTC. Gifts are not discounts and are left out.
  No customer columns: Shopify's customer ids are not relmark's.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from functools import cache
from typing import IO, Any, Literal

import polars as pl
from sqlalchemy import Connection, text

from relmark.errors import InvalidInput
from relmark.store import transfer
from relmark.store.live import live_id_of, with_merged_live

Layout = Literal["csv", "shopify"]
STATUSES = ("reserved", "issued", "redeemed", "expired", "void")
PAGE = 20_000

CSV_HEADER = (
    "code",
    "kind",
    "status",
    "percent_off",
    "amount",
    "currency",
    "gift",
    "customer_id",
    "email",
    "issued_at",
    "expires_at",
    "min_order",
    "max_uses",
    "uses",
)
SHOPIFY_HEADER = (
    "Title",
    "Command",
    "Code",
    "Type",
    "Value",
    "Minimum Requirement",
    "Minimum Requirement Subtotal",
    "Usage Limit",
    "Applies Once Per Customer",
    "Starts At",
    "Ends At",
)


@cache
def _precision(currency: str) -> int:
    from babel.numbers import UnknownCurrencyError, get_currency_precision

    try:
        return int(get_currency_precision(currency))
    except UnknownCurrencyError:
        return 2


def major(minor: int | None, currency: str | None) -> str | None:
    """`1250`, `EUR` → `12.50`: an amount as the shop types it (exact, no float)."""
    if minor is None:
        return None
    digits = _precision(currency or "XXX")
    return str(Decimal(minor).scaleb(-digits).quantize(Decimal(1).scaleb(-digits)))


def percent_text(value: Any) -> str | None:
    return None if value is None else format(Decimal(value).normalize(), "f")


def checked_status(status: str | None, layout: Layout = "csv") -> str | None:
    """The status filter, refused when unknown or when the Shopify layout (MERGE) would
    re-open closed codes at the shop with it."""
    if status is not None and status not in STATUSES:
        raise InvalidInput.single("--status", f"{status!r} is not one of {', '.join(STATUSES)}")
    if layout == "shopify" and status not in (None, "issued"):
        raise InvalidInput.single(
            "--status",
            f"--format shopify exports only issued codes (importing a {status} code with "
            "MERGE would make it usable again at the shop); leave --status out or use issued",
        )
    return status


def _query(status: str | None, layout: Layout) -> tuple[Any, dict[str, Any]]:
    where = ["o.status = :status" if status else "o.status <> 'reserved'"]
    if layout == "shopify":  # live discount codes with uses left, whatever was asked
        status = "issued"
        where = [
            "o.status = :status",
            "o.uses < o.max_uses",
            "(o.percent_off IS NOT NULL OR o.amount_minor IS NOT NULL)",
        ]
    statement = text(
        with_merged_live(
            "SELECT o.code, o.kind, o.status, CAST(o.percent_off AS DOUBLE PRECISION), "
            "o.amount_minor, o.currency, o.gift, l.id, l.email, "
            "CASE WHEN l.restricted_at IS NULL THEN 0 ELSE 1 END, o.issued_at, o.expires_at, "
            "o.min_order_minor, o.max_uses, o.uses FROM offers o "
            "LEFT JOIN merged_live ml ON ml.start_id = o.customer_id "
            f"JOIN customers l ON l.id = {live_id_of('o.customer_id')} "
            f"WHERE {' AND '.join(where)} ORDER BY o.id"
        )
    )
    return statement, {"status": status}


RAW = {
    "code": pl.String,
    "kind": pl.String,
    "status": pl.String,
    "percent_off": pl.Float64,
    "amount_minor": pl.Int64,
    "currency": pl.String,
    "gift": pl.String,
    "customer_id": pl.Int64,
    "email": pl.String,
    "restricted": pl.Int64,
    "issued_at": pl.Datetime("us", "UTC"),
    "expires_at": pl.Datetime("us", "UTC"),
    "min_order_minor": pl.Int64,
    "max_uses": pl.Int64,
    "uses": pl.Int64,
}


def offer_pages(
    connection: Connection, status: str | None = None, layout: Layout = "csv"
) -> Iterator[pl.DataFrame]:
    """The export, a page of rows at a time as frames in the file's columns (all text
    formatting vectorised); `status` None means every offer that went out (all but
    reserved ones). Memory holds one page, whatever the number of offers."""
    statement, params = _query(checked_status(status, layout), layout)
    shared = pl.Series(sorted(transfer.sharing_consented(connection)), dtype=pl.Int64)
    result = connection.execute(statement.execution_options(stream_results=True), params)
    sqlite = connection.dialect.name == "sqlite"
    for rows in result.partitions(PAGE):
        frame = _frame(rows, sqlite)
        yield _shopify(frame) if layout == "shopify" else _csv(frame, shared)


def _frame(rows: Any, sqlite: bool) -> pl.DataFrame:
    """A page of rows as a typed frame, built column by column (faster than row by row)."""
    columns = dict(zip(RAW, zip(*rows, strict=True), strict=True))
    if not sqlite:
        return pl.DataFrame(columns, schema=RAW)
    raw = {k: pl.String if isinstance(v, pl.Datetime) else v for k, v in RAW.items()}
    frame = pl.DataFrame(columns, schema=raw)
    return frame.with_columns(
        pl.col(name).str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", time_zone="UTC")
        for name in ("issued_at", "expires_at")
    )


def _iso_text(name: str) -> pl.Expr:
    return pl.col(name).dt.strftime("%Y-%m-%dT%H:%M:%SZ").alias(name)


def _percent_text() -> pl.Expr:
    """15.0 → "15", 12.5 → "12.5": the percentage as a shop types it."""
    value = pl.col("percent_off").round(2)
    whole = value == value.floor()
    return (
        pl.when(whole)
        .then(value.cast(pl.Int64).cast(pl.String))
        .otherwise(value.cast(pl.String))
        .alias("percent_off")
    )


def _major(name: str, frame: pl.DataFrame) -> pl.Expr:
    """Minor units → "12.50" in each row's currency's decimals, exactly (integer maths)."""
    digits = {c: _precision(c) for c in frame["currency"].drop_nulls().unique().to_list()}
    places = pl.col("currency").replace_strict(digits, default=2, return_dtype=pl.Int64)
    scale = pl.lit(10, dtype=pl.Int64).pow(places)
    minor = pl.col(name)
    fraction = (minor % scale).cast(pl.String).str.zfill(places)
    whole = (minor // scale).cast(pl.String)
    return (
        pl.when(minor.is_null())
        .then(None)
        .when(places == 0)
        .then(whole)
        .otherwise(whole + "." + fraction)
        .alias(name)
    )


def _csv(frame: pl.DataFrame, shared: pl.Series) -> pl.DataFrame:
    hidden = pl.col("restricted") == 1
    return frame.select(
        "code",
        "kind",
        "status",
        _percent_text(),
        _major("amount_minor", frame).alias("amount"),
        "currency",
        "gift",
        pl.when(hidden).then(None).otherwise(pl.col("customer_id")).alias("customer_id"),
        pl.when(~hidden & pl.col("customer_id").is_in(shared.implode()))
        .then(pl.col("email"))
        .otherwise(None)
        .alias("email"),
        _iso_text("issued_at"),
        _iso_text("expires_at"),
        _major("min_order_minor", frame).alias("min_order"),
        "max_uses",
        "uses",
    )


def _shopify(frame: pl.DataFrame) -> pl.DataFrame:
    percent = pl.col("percent_off").is_not_null()
    has_minimum = pl.col("min_order_minor").fill_null(0) > 0
    return frame.with_columns(_percent_text(), _major("amount_minor", frame)).select(
        pl.col("code").alias("Title"),
        pl.lit("MERGE").alias("Command"),
        pl.col("code").alias("Code"),
        pl.when(percent).then(pl.lit("Percentage")).otherwise(pl.lit("Fixed Amount")).alias("Type"),
        pl.when(percent)
        .then(pl.col("percent_off"))
        .otherwise(pl.col("amount_minor"))
        .alias("Value"),
        pl.when(has_minimum)
        .then(pl.lit("Subtotal"))
        .otherwise(pl.lit("None"))
        .alias("Minimum Requirement"),
        pl.when(has_minimum)
        .then(_major("min_order_minor", frame))
        .otherwise(None)
        .alias("Minimum Requirement Subtotal"),
        (pl.col("max_uses") - pl.col("uses")).alias("Usage Limit"),
        pl.when(pl.col("max_uses") == 1)
        .then(pl.lit("TRUE"))
        .otherwise(pl.lit("FALSE"))
        .alias("Applies Once Per Customer"),
        _iso_text("issued_at").alias("Starts At"),
        _iso_text("expires_at").alias("Ends At"),
    )


def header(layout: Layout) -> tuple[str, ...]:
    return SHOPIFY_HEADER if layout == "shopify" else CSV_HEADER


def write_export(
    connection: Connection, handle: IO[bytes], status: str | None, layout: Layout
) -> int:
    """Write the export to `handle` (header, then page after page); the rows written."""
    from relmark.csvsafe import write_csv

    written = 0
    for page in offer_pages(connection, status, layout):
        write_csv(page, handle, header=written == 0)
        written += page.height
    if written == 0:
        handle.write((",".join(header(layout)) + "\n").encode())
    return written
