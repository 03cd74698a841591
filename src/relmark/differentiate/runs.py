"""Per-customer aggregates by sorting, not hashing: the summary's memory stays near the input's.

A hash group-by on (customer, day) keeps a table of every group, keyed by the customer's text:
on 1M customers and 2.7M transactions Polars peaked at ~400 MB above the 75 MB input, more
than lifetimes' whole process. Sorting the rows once by (customer, day) and reducing runs of
equal keys with NumPy (`reduceat`) needs only a handful of arrays as long as the input
(~200 MB above it on the same data) and is faster. Canonical numeric ids (most shops' and
CDNOW's) are packed with the day into one unsigned 64-bit key, so one integer sort orders
the rows; any other id is sorted as it is, by Polars.
"""

from __future__ import annotations

import numpy as np
import polars as pl

#: Text ids that survive a round trip through an unsigned integer (no sign, no leading zero).
CANONICAL_NUMBER = r"^(0|[1-9][0-9]{0,18})$"
LIMIT = 2**64


def _packed_key(customers: pl.Series, days: np.ndarray) -> np.ndarray | None:
    """customer × span + day as one uint64 when ids are non-negative integers (or text that
    is exactly one) and the product fits; None otherwise."""
    if customers.dtype == pl.String:
        if not customers.str.contains(CANONICAL_NUMBER).all():
            return None
        numbers = customers.cast(pl.UInt64, strict=False)
    elif customers.dtype.is_integer():
        if customers.min() < 0:  # type: ignore[operator]
            return None
        numbers = customers.cast(pl.UInt64)
    else:
        return None
    if numbers.null_count():
        return None
    span = int(days.max()) + 1
    if (int(numbers.max()) + 1) * span >= LIMIT:  # type: ignore[arg-type]
        return None
    packed = numbers.to_numpy().astype(np.uint64, copy=False) * np.uint64(span)
    packed += days.astype(np.uint64)
    return packed


def _starts(changed: np.ndarray) -> np.ndarray:
    """Indices where a run begins, given `changed[i]` = row i differs from row i-1."""
    changed[0] = True
    return np.flatnonzero(changed)


def customer_runs(
    frame: pl.DataFrame, end_day: int, unit_days: float, extras: bool
) -> pl.DataFrame:
    """Summary columns from (customer_id, _day, amount[, timestamp]); `_day` counts whole days.

    Same definitions as `summary.rfm_summary`: purchases on one day are one transaction.
    """
    n = frame.height
    first_day = int(frame["_day"].min())  # type: ignore[arg-type]
    days = (frame["_day"].to_numpy() - first_day).astype(np.int64)
    packed = _packed_key(frame["customer_id"], days)
    if packed is not None:
        order = np.argsort(packed, kind="stable")
        packed = packed[order]
        new_day = np.empty(n, dtype=bool)
        np.not_equal(packed[1:], packed[:-1], out=new_day[1:])
        span = np.uint64(int(days.max()) + 1)
        customer = packed // span
        new_customer = np.empty(n, dtype=bool)
        np.not_equal(customer[1:], customer[:-1], out=new_customer[1:])
        days = (packed % span).astype(np.int64)
        del packed, customer
    else:
        order = frame.select(pl.arg_sort_by("customer_id", "_day")).to_series().to_numpy()
        ids = frame["customer_id"].gather(order)
        new_customer = (ids != ids.shift(1)).fill_null(True).to_numpy().copy()
        del ids
        days = days[order]
        new_day = new_customer.copy()
        new_day[1:] |= days[1:] != days[:-1]
    row_starts = _starts(new_customer)
    day_starts = _starts(new_day)
    day_amount = np.add.reduceat(frame["amount"].to_numpy()[order], day_starts)
    day_of = days[day_starts]
    # Runs of days that begin a customer, in the space of day runs.
    customer_days = np.flatnonzero(new_customer[day_starts])
    periods = np.diff(np.append(customer_days, day_starts.size))
    last_days = day_of[np.append(customer_days[1:], day_starts.size) - 1]
    first_days = day_of[customer_days]
    first_amount = day_amount[customer_days]
    revenue = np.add.reduceat(day_amount, customer_days)
    repeats = periods - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(repeats > 0, (revenue - first_amount) / np.maximum(repeats, 1), 0.0)
    columns: dict[str, pl.Series] = {
        "customer_id": frame["customer_id"].gather(order[row_starts]),
        "frequency": pl.Series(repeats, dtype=pl.UInt32),
        "recency": pl.Series((last_days - first_days) / unit_days, dtype=pl.Float64),
        "T": pl.Series((end_day - first_day - first_days) / unit_days, dtype=pl.Float64),
        "monetary_value": pl.Series(monetary, dtype=pl.Float64),
    }
    if extras:
        stamps = frame["timestamp"]
        moments = stamps.to_physical().to_numpy()[order]
        columns |= {
            "first_purchase": pl.Series(np.minimum.reduceat(moments, row_starts)).cast(
                stamps.dtype
            ),
            "last_purchase": pl.Series(np.maximum.reduceat(moments, row_starts)).cast(stamps.dtype),
            "orders": pl.Series(np.diff(np.append(row_starts, n)), dtype=pl.UInt32),
            "revenue": pl.Series(revenue, dtype=pl.Float64),
        }
    return pl.DataFrame(columns)
