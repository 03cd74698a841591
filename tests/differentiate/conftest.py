"""The CDNOW sample with the Fader-Hardie-Lee (2005) set-up, shared by the model tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from relmark.differentiate.summary import calibration_and_holdout

CDNOW = Path(__file__).resolve().parents[1] / "data" / "cdnow" / "CDNOW_sample.txt"
CALIBRATION_END = datetime(1997, 9, 30, tzinfo=UTC)
HOLDOUT_END = datetime(1998, 6, 30, tzinfo=UTC)


def cdnow_transactions() -> pl.DataFrame:
    assert CDNOW.exists(), f"the CDNOW sample is expected at {CDNOW}"
    lines = [line.split() for line in CDNOW.read_text().splitlines() if line.strip()]
    return pl.DataFrame(
        {
            "customer_id": [int(p[0]) for p in lines],
            "timestamp": [datetime.strptime(p[2], "%Y%m%d").replace(tzinfo=UTC) for p in lines],
            "amount": [float(p[4]) for p in lines],
        }
    )


@pytest.fixture(scope="session")
def cdnow() -> pl.DataFrame:
    """One row per customer: calibration summary (weeks) and holdout counts."""
    return calibration_and_holdout(
        cdnow_transactions(),
        calibration_end=CALIBRATION_END,
        holdout_end=HOLDOUT_END,
        time_unit="week",
    )
