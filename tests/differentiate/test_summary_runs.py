"""The sorted-run summary equals a plain hash group-by on every kind of customer id: text,
canonical numbers as text (packed path), numbers with leading zeros, integers, negative and
huge integers (general path), purchases before 1970 and several on one day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relmark.differentiate.summary import rfm_summary

AS_OF = datetime(2024, 3, 1, tzinfo=UTC)
ORIGIN = datetime(1970, 1, 1, tzinfo=UTC)


def reference(frame: pl.DataFrame, unit_days: float) -> pl.DataFrame:
    """The definitions written as a hash group-by (the summary's earlier implementation)."""
    end_day = (AS_OF - ORIGIN).days
    per_day = (
        frame.with_columns((pl.col("timestamp") - pl.lit(ORIGIN)).dt.total_days().alias("d"))
        .group_by("customer_id", "d")
        .agg(
            pl.col("amount").sum(),
            pl.col("timestamp").min().alias("first"),
            pl.col("timestamp").max().alias("last"),
            pl.len().alias("n"),
        )
    )
    return (
        per_day.group_by("customer_id")
        .agg(
            (pl.len() - 1).alias("frequency"),
            ((pl.col("d").max() - pl.col("d").min()) / unit_days).alias("recency"),
            ((pl.lit(end_day) - pl.col("d").min()) / unit_days).alias("T"),
            pl.when(pl.len() > 1)
            .then((pl.col("amount").sum() - pl.col("amount").sort_by("d").first()) / (pl.len() - 1))
            .otherwise(0.0)
            .alias("monetary_value"),
            pl.col("first").min().alias("first_purchase"),
            pl.col("last").max().alias("last_purchase"),
            pl.col("n").sum().alias("orders"),
            pl.col("amount").sum().alias("revenue"),
        )
        .sort("customer_id")
    )


IDS = {
    "text": st.sampled_from(["A", "b", "Émile", "x-1", "", "zz", "A "]),
    "numeric text": st.integers(0, 10**12).map(str),
    "leading zeros": st.integers(0, 999).map(lambda i: f"{i:05d}"),
    "integers": st.integers(0, 50),
    "signed": st.integers(-5, 5),
    "huge": st.sampled_from([0, 2**62, 2**63 - 1, 17]),
}


@pytest.mark.parametrize("kind", list(IDS))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_runs_match_a_hash_group_by(kind: str, data: st.DataObject) -> None:
    rows = data.draw(
        st.lists(
            st.tuples(
                IDS[kind],
                st.integers(-40_000, 0),  # hours before as_of, up to ~4.5 years
                st.sampled_from([0.0, 1.5, 10.0, 99.99]),
            ),
            min_size=1,
            max_size=60,
        )
    )
    frame = pl.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "timestamp": [AS_OF + timedelta(hours=r[1]) for r in rows],
            "amount": [r[2] for r in rows],
        },
        schema_overrides={"timestamp": pl.Datetime("us", "UTC")},
    )
    for unit, days in (("day", 1.0), ("week", 7.0)):
        mine = rfm_summary(frame, as_of=AS_OF, time_unit=unit).sort("customer_id")
        theirs = reference(frame, days)
        assert mine.columns == theirs.columns
        for column in mine.columns:
            left, right = mine[column], theirs[column]
            if left.dtype.is_float():
                assert left.to_list() == pytest.approx(right.to_list()), column
            else:
                assert left.cast(right.dtype).to_list() == right.to_list(), column


def test_purchases_before_1970_and_an_empty_log() -> None:
    frame = pl.DataFrame(
        {
            "customer_id": ["7", "7", "8"],
            "timestamp": [
                datetime(1969, 12, 30, tzinfo=UTC),
                datetime(1970, 1, 2, tzinfo=UTC),
                datetime(2000, 1, 1, tzinfo=UTC),
            ],
            "amount": [1.0, 3.0, 2.0],
        }
    )
    summary = rfm_summary(frame, as_of=AS_OF, time_unit="day")
    assert summary.row(0, named=True)["recency"] == 3.0
    assert summary.row(0, named=True)["monetary_value"] == 3.0
    empty = rfm_summary(frame.clear(), as_of=AS_OF, time_unit="day")
    assert empty.height == 0
    assert "revenue" in empty.columns
