"""The time unit is a scale: a fit in weeks is done on whole days (which compress far
better) and rescaled, and equals the direct fit in weeks."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from relmark.differentiate import simulate
from relmark.differentiate.models import BetaGeo, ModifiedBetaGeo, ParetoNBD, transaction
from relmark.differentiate.summary import rfm_summary


@pytest.fixture(scope="module")
def weekly() -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(11)
    log = simulate.transactions(
        rng, 20_000, days=730, r=0.6, alpha=60.0, a=0.8, b=3.0, p=6.0, q=3.5, gamma=20.0
    )
    as_of = log["timestamp"].max() + timedelta(days=1)
    summary = rfm_summary(log, as_of=as_of, time_unit="week")
    return tuple(summary[c].to_numpy().astype(float) for c in ("frequency", "recency", "T"))


@pytest.mark.parametrize("model", [BetaGeo, ModifiedBetaGeo, ParetoNBD], ids=lambda m: m.name)
def test_fit_in_weeks_on_whole_days_equals_the_direct_weekly_fit(weekly, model, monkeypatch):
    assert transaction.days_per_unit(weekly[1], weekly[2]) == 7.0
    on_days = model().fit(*weekly)
    monkeypatch.setattr(transaction, "DAY_SCALES", ())
    direct = model().fit(*weekly)

    np.testing.assert_allclose(on_days.values(), direct.values(), rtol=1e-6)
    assert on_days.log_likelihood == pytest.approx(direct.log_likelihood, rel=1e-9)
    np.testing.assert_allclose(on_days.covariance, direct.covariance, rtol=1e-4, atol=1e-9)


def test_times_that_are_not_whole_days_in_any_unit_are_fitted_as_they_are() -> None:
    recency, T = np.array([0.0, 1.3, 2.0]), np.array([3.0, 4.1, 5.0])

    assert transaction.days_per_unit(recency, T) == 1.0
    assert transaction.days_per_unit(np.array([0.0, 3.0]), np.array([5.0, 9.0])) == 1.0
    assert transaction.days_per_unit(np.array([0.0, 3 / 7]), np.array([5 / 7, 9 / 7])) == 7.0
