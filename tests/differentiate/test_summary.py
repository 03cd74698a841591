"""The per-customer summary: definitions and refusals, with exact messages."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from relmark.differentiate.summary import rfm_summary
from relmark.errors import InvalidInput

AS_OF = datetime(2024, 3, 1, tzinfo=UTC)


def tx(rows: list[tuple[str, str, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "timestamp": [datetime.fromisoformat(r[1]).replace(tzinfo=UTC) for r in rows],
            "amount": [r[2] for r in rows],
        }
    )


def test_same_day_purchases_merge_and_times_are_in_the_unit() -> None:
    frame = tx(
        [
            ("A", "2024-01-01T09:00", 10.0),
            ("A", "2024-01-01T17:00", 5.0),
            ("A", "2024-01-15T10:00", 20.0),
            ("A", "2024-01-29T10:00", 40.0),
            ("B", "2024-02-01T10:00", 7.0),
        ]
    )

    days = rfm_summary(frame, as_of=AS_OF, time_unit="day")
    weeks = rfm_summary(frame, as_of=AS_OF, time_unit="week")

    a = days.row(0, named=True)
    assert (a["frequency"], a["recency"], a["T"]) == (2, 28.0, 60.0)
    assert a["monetary_value"] == pytest.approx(30.0)  # mean of the repeat purchases only
    assert a["orders"] == 4
    assert a["revenue"] == pytest.approx(75.0)
    assert weeks.row(0, named=True)["recency"] == pytest.approx(4.0)
    b = days.row(1, named=True)
    assert (b["frequency"], b["recency"], b["monetary_value"]) == (0, 0.0, 0.0)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (
            pl.DataFrame({"customer_id": ["A"], "amount": [1.0]}),
            "required column 'timestamp' is missing",
        ),
        (tx([("A", "2024-01-01", -5.0)]), "1 transactions have a negative amount"),
        (
            tx([("A", "2024-04-01", 5.0)]),
            "1 transactions are after as_of 2024-03-01T00:00:00+00:00",
        ),
    ],
)
def test_unusable_transactions_are_refused(frame: pl.DataFrame, message: str) -> None:
    with pytest.raises(InvalidInput, match=message.replace("+", r"\+")):
        rfm_summary(frame, as_of=AS_OF)


def test_pandas_frames_are_accepted_and_other_types_refused_in_words() -> None:
    import pandas as pd

    from relmark.differentiate.summary import calibration_and_holdout, rfm_summary
    from relmark.errors import InvalidInput

    days = pd.to_datetime(["2024-01-01", "2024-01-15", "2024-02-01", "2024-01-10"], utc=True)
    frame = pd.DataFrame({"customer_id": [1, 1, 1, 2], "timestamp": days, "amount": [5.0] * 4})
    as_of = datetime(2024, 3, 1, tzinfo=UTC)

    summary = rfm_summary(frame, as_of=as_of, time_unit="day")
    both = calibration_and_holdout(
        frame, calibration_end=datetime(2024, 1, 20, tzinfo=UTC), holdout_end=as_of
    )

    assert summary.filter(pl.col("customer_id") == 1).row(0, named=True)["frequency"] == 2
    assert both.filter(pl.col("customer_id") == 1)["frequency_holdout"].to_list() == [1]
    with pytest.raises(InvalidInput, match="expected a Polars or pandas DataFrame, got builtins"):
        rfm_summary({"customer_id": [1]}, as_of=as_of)
    naive = frame.assign(timestamp=days.tz_localize(None))
    with pytest.raises(InvalidInput, match="timestamp must be a date-time with a time zone"):
        rfm_summary(naive, as_of=as_of)


def test_summary_without_extras_has_the_model_columns_only_and_the_same_values() -> None:
    frame = pl.DataFrame(
        {
            "customer_id": ["a", "a", "b", "a"],
            "timestamp": [datetime(2024, 1, d, 9, tzinfo=UTC) for d in (1, 8, 3, 8)],
            "amount": [5.0, 7.0, 2.0, 1.0],
        }
    )
    as_of = datetime(2024, 2, 1, tzinfo=UTC)

    full = rfm_summary(frame, as_of=as_of)
    lean = rfm_summary(frame, as_of=as_of, extras=False)

    assert lean.columns == ["customer_id", "frequency", "recency", "T", "monetary_value"]
    assert lean.equals(full.select(lean.columns))
