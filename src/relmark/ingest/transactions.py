"""A transaction log for analysis (customer, timestamp, amount) from a file, without the store.

Same readers and value parsing as the importer, so a bad date or amount is reported with its
line in the same words.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from relmark.enums import FileFormat
from relmark.errors import InvalidInput, Problem
from relmark.ingest.readers import LINE, guess_format, read_file
from relmark.ingest.validate import parse_timestamp

NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)$"


def _fast_timestamp(text: pl.Expr, timezone: str) -> pl.Expr:
    """RFC 3339 and plain dates (the shapes exports use), in one pass; null where neither."""
    return pl.coalesce(
        text.str.to_datetime("%+", strict=False, time_zone="UTC", time_unit="us"),
        text.str.to_date("%Y-%m-%d", strict=False)
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC"),
    )


def _timestamps(text: pl.Series, timezone: str) -> pl.Series:
    """`parse_timestamp` with the fast paths first; only the rows they miss take the regular
    expressions (on 700,000 dates: 0.2 s instead of 6.3 s)."""
    fast = text.to_frame("t").select(_fast_timestamp(pl.col("t"), timezone))["t"]
    missed = fast.is_null() & text.is_not_null()
    if not missed.any():
        return fast
    slow = text.to_frame("t").select(parse_timestamp(pl.col("t"), timezone))["t"]
    return fast.zip_with(~missed, slow)


def _amount(text: pl.Expr) -> pl.Expr:
    return pl.when(text.str.contains(NUMBER)).then(text.cast(pl.Float64, strict=False))


def _read_clean_csv(
    path: Path, customer_col: str, date_col: str, amount_col: str, timezone: str
) -> pl.DataFrame | None:
    """A CSV whose every row is valid in the common shapes, read in a streaming pass: the
    text columns are never held whole (1M customers, 3.45M rows: 285 MB at the peak
    instead of 507 MB). None when anything is unusual — another encoding, a missing column,
    a date in another shape, a bad value — and the careful reader then says what and where."""
    try:
        frame = (
            pl.scan_csv(path, infer_schema=False)
            .select(
                pl.col(customer_col).str.strip_chars().alias("customer_id"),
                _fast_timestamp(pl.col(date_col).str.strip_chars(), timezone).alias("timestamp"),
                _amount(pl.col(amount_col).str.strip_chars()).alias("amount"),
            )
            .collect(engine="streaming")
        )
    except (pl.exceptions.PolarsError, OSError):
        return None
    usable = frame.height > 0 and not (
        frame.null_count().row(0) != (0, 0, 0) or (frame["customer_id"] == "").any()
    )
    return frame if usable else None


def read_transactions(
    path: Path,
    *,
    file_format: FileFormat | None = None,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
    timezone: str = "UTC",
) -> pl.DataFrame:
    """customer_id (text), timestamp (UTC), amount (float) for every row of the file."""
    file_format = file_format or guess_format(path)
    if file_format == FileFormat.CSV:
        clean = _read_clean_csv(path, customer_col, date_col, amount_col, timezone)
        if clean is not None:
            return clean
    table = read_file(path, file_format)
    if file_format == FileFormat.CDNOW:
        customer_col, date_col, amount_col = "customer_id", "date", "amount"
    frame = table.frame
    missing = [c for c in (customer_col, date_col, amount_col) if c not in frame.columns]
    if missing:
        raise InvalidInput.single(
            table.where,
            f"no column {missing[0]!r} (columns: "
            f"{', '.join(c for c in frame.columns if c != LINE)}); name it with --customer-col, "
            "--date-col or --amount-col",
            1,
        )
    raw = frame.select(
        pl.col(LINE),
        pl.col(customer_col).str.strip_chars().alias("customer_id"),
        pl.col(date_col).str.strip_chars().alias("_date"),
        pl.col(amount_col).str.strip_chars().alias("_amount"),
    )
    parsed = raw.with_columns(
        _timestamps(raw["_date"], timezone).alias("timestamp"),
        _amount(pl.col("_amount")).alias("amount"),
    )
    bad = parsed.filter(
        pl.col("timestamp").is_null()
        | pl.col("amount").is_null()
        | pl.col("customer_id").is_null()
        | (pl.col("customer_id") == "")
    )
    if bad.height:
        problems = []
        for line, customer, date, amount, timestamp in (
            bad.head(20).select(LINE, "customer_id", "_date", "_amount", "timestamp").iter_rows()
        ):
            if not customer:
                problems.append(Problem(table.where, "is empty", line, customer_col))
            elif timestamp is None:
                problems.append(Problem(table.where, f"{date!r} is not a date", line, date_col))
            else:
                problems.append(
                    Problem(table.where, f"{amount!r} is not a number", line, amount_col)
                )
        raise InvalidInput(problems, total=bad.height)
    return parsed.select("customer_id", "timestamp", "amount")
