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


def _timestamps(text: pl.Series, timezone: str) -> pl.Series:
    """`parse_timestamp` with fast paths first: RFC 3339 and plain dates (the shapes exports
    use) in one pass each; only the rows they miss take the regular expressions (on 700,000
    dates: 0.2 s instead of 6.3 s)."""
    fast = text.to_frame("t").select(
        pl.coalesce(
            pl.col("t").str.to_datetime("%+", strict=False, time_zone="UTC", time_unit="us"),
            pl.col("t")
            .str.to_date("%Y-%m-%d", strict=False)
            .cast(pl.Datetime("us"))
            .dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
            .dt.convert_time_zone("UTC"),
        )
    )["t"]
    missed = fast.is_null() & text.is_not_null()
    if not missed.any():
        return fast
    slow = text.to_frame("t").select(parse_timestamp(pl.col("t"), timezone))["t"]
    return fast.zip_with(~missed, slow)


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
        pl.when(pl.col("_amount").str.contains(NUMBER))
        .then(pl.col("_amount").cast(pl.Float64, strict=False))
        .alias("amount"),
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
