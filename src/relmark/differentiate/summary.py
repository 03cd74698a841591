"""Transactions → one row per customer as of a date: the input every value model shares.

Definitions (Fader, Hardie & Lee 2005): purchases on the same day are one transaction;
`frequency` = repeat transactions (all but the first); `recency` = time from the first to the
last transaction; `T` = time from the first transaction to `as_of`; `monetary_value` = mean
value of the repeat transactions (0 without repeats). Times are whole days between purchase
dates, expressed in the chosen unit (a week is 7 days, so recency 30.43 weeks = 213 days).
Rows are sorted once by (customer, day) and runs reduced (`runs.py`): a hash group-by on text
keys took more memory than the peer's whole process. Works the same on a file's frame and the
store's orders; customers come out in id order (numeric ids by number).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import polars as pl

from relmark.differentiate.runs import customer_runs
from relmark.errors import InvalidInput

TimeUnit = Literal["day", "week"]
UNIT_DAYS = {"day": 1, "week": 7}
REQUIRED = ("customer_id", "timestamp", "amount")


def as_polars(frame: Any, where: str = "transactions") -> pl.DataFrame | pl.LazyFrame:
    """A Polars frame as it is, a pandas DataFrame converted (pandas is imported only when
    one is passed); anything else refused in words."""
    if isinstance(frame, pl.DataFrame | pl.LazyFrame):
        return frame
    if type(frame).__module__.split(".")[0] == "pandas":
        import pandas as pd

        if isinstance(frame, pd.DataFrame):
            return pl.from_pandas(frame)
    raise InvalidInput.single(
        where,
        f"expected a Polars or pandas DataFrame, got {type(frame).__module__}."
        f"{type(frame).__qualname__}",
    )


def check_transactions(frame: pl.DataFrame | pl.LazyFrame, as_of: datetime) -> None:
    """Refuse transactions the models cannot use, saying exactly why."""
    frame = as_polars(frame)
    columns = frame.collect_schema().names()
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise InvalidInput.single(
            "transactions",
            f"required column {missing[0]!r} is missing (have: {', '.join(columns)})",
        )
    kind = frame.collect_schema()["timestamp"]
    if not isinstance(kind, pl.Datetime) or (kind.time_zone is None) != (as_of.tzinfo is None):
        raise InvalidInput.single(
            "transactions",
            f"timestamp must be a date-time {'with' if as_of.tzinfo else 'without'} a time "
            f"zone, like as_of ({as_of.isoformat()}); it is {kind}",
        )
    stats = (
        frame.lazy()
        .select(
            (pl.col("amount") < 0).sum().alias("negative"),
            (pl.col("timestamp") > pl.lit(as_of)).sum().alias("future"),
            pl.col("timestamp").max().alias("last"),
            pl.col("customer_id").is_null().sum().alias("no_customer"),
        )
        .collect()
        .row(0, named=True)
    )
    if stats["negative"]:
        raise InvalidInput.single(
            "transactions", f"{stats['negative']} transactions have a negative amount"
        )
    if stats["future"]:
        raise InvalidInput.single(
            "transactions",
            f"{stats['future']} transactions are after as_of "
            f"{as_of.isoformat()} (the last is {stats['last']})",
        )
    if stats["no_customer"]:
        raise InvalidInput.single(
            "transactions", f"{stats['no_customer']} transactions have no customer_id"
        )


def _day(origin: datetime) -> pl.Expr:
    """Whole days since `origin` of each transaction (same-day purchases coincide)."""
    return (pl.col("timestamp") - pl.lit(origin)).dt.total_days()


def rfm_summary(
    transactions: pl.DataFrame | pl.LazyFrame | Any,
    *,
    as_of: datetime,
    time_unit: TimeUnit = "week",
    origin: datetime | None = None,
    extras: bool = True,
) -> pl.DataFrame:
    """Per-customer frequency, recency, T, monetary_value, plus first/last purchase and totals
    (orders, revenue) unless `extras` is False: a fit needs only the model columns, and the
    first and last timestamps per day cost a fifth of the summary's memory.

    `transactions` (Polars or pandas) has columns customer_id, timestamp (aware) and amount
    (number).
    """
    transactions = as_polars(transactions)
    check_transactions(transactions, as_of)
    start = origin or datetime(1970, 1, 1, tzinfo=as_of.tzinfo)
    unit_days = float(UNIT_DAYS[time_unit])
    end_day = (as_of - start).days
    frame = (
        transactions.lazy()
        .select(
            "customer_id",
            _day(start).alias("_day"),
            pl.col("amount").cast(pl.Float64),
            *(["timestamp"] if extras else []),
        )
        .collect()
    )
    if frame.is_empty():
        return _empty_summary(frame, extras)
    return customer_runs(frame, end_day, unit_days, extras)


def _empty_summary(frame: pl.DataFrame, extras: bool) -> pl.DataFrame:
    schema: dict[str, Any] = {
        "customer_id": frame.schema["customer_id"],
        "frequency": pl.UInt32,
        "recency": pl.Float64,
        "T": pl.Float64,
        "monetary_value": pl.Float64,
    }
    if extras:
        stamp = frame.schema["timestamp"]
        schema |= {
            "first_purchase": stamp,
            "last_purchase": stamp,
            "orders": pl.UInt32,
            "revenue": pl.Float64,
        }
    return pl.DataFrame(schema=schema)


def calibration_and_holdout(
    transactions: pl.DataFrame | pl.LazyFrame | Any,
    *,
    calibration_end: datetime,
    holdout_end: datetime,
    time_unit: TimeUnit = "week",
    origin: datetime | None = None,
    extras: bool = True,
) -> pl.DataFrame:
    """Summary on the calibration period plus what each customer did in the holdout period.

    Only customers whose first purchase falls in the calibration period are kept (a cohort).
    Adds `frequency_holdout` (transactions in the holdout), `monetary_holdout` (their mean
    value) and `duration_holdout` (the holdout length in the time unit).
    """
    lazy = as_polars(transactions).lazy()
    calibration = rfm_summary(
        lazy.filter(pl.col("timestamp") <= calibration_end),
        as_of=calibration_end,
        time_unit=time_unit,
        origin=origin,
        extras=extras,
    )
    start = origin or datetime(1970, 1, 1, tzinfo=calibration_end.tzinfo)
    holdout = (
        lazy.filter((pl.col("timestamp") > calibration_end) & (pl.col("timestamp") <= holdout_end))
        .with_columns(_day(start).alias("_period"))
        .group_by("customer_id", "_period")
        .agg(pl.col("amount").sum())
        .group_by("customer_id")
        .agg(pl.len().alias("frequency_holdout"), pl.col("amount").mean().alias("monetary_holdout"))
        .collect()
    )
    duration = (holdout_end - calibration_end).days / UNIT_DAYS[time_unit]
    return calibration.join(holdout, on="customer_id", how="left").with_columns(
        pl.col("frequency_holdout").fill_null(0),
        pl.col("monetary_holdout").fill_null(0.0),
        pl.lit(duration).alias("duration_holdout"),
    )


def check_summary(summary: pl.DataFrame | Any) -> None:
    """The model inputs must be consistent: exact messages, as tested."""
    summary = as_polars(summary, "summary").lazy().collect()
    for column in ("frequency", "recency", "T"):
        if column not in summary.columns:
            raise InvalidInput.single("summary", f"required column {column!r} is missing")
    bad = summary.filter(pl.col("recency") > pl.col("T"))
    if bad.height:
        raise InvalidInput.single("summary", f"recency larger than T for {bad.height} customers")
    if summary.filter((pl.col("frequency") < 0) | (pl.col("recency") < 0)).height:
        raise InvalidInput.single("summary", "frequency and recency must not be negative")
    if summary.filter((pl.col("frequency") == 0) & (pl.col("recency") != 0)).height:
        raise InvalidInput.single("summary", "recency must be 0 for customers without repeats")
