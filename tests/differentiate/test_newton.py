"""Newton's method with analytic Hessians: the Hessians are exact, the fits reach the same
maximum as the gradient-only L-BFGS-B path (the fallback), and the shortcuts under them
(rising sums, sorted distinct rows) equal what they replace."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy.special import digamma, gammaln, polygamma

from relmark.differentiate import simulate
from relmark.differentiate.models import (
    BetaGeo,
    ConvergenceError,
    GammaGamma,
    ModifiedBetaGeo,
    ParetoNBD,
    base,
)
from relmark.differentiate.models.gamma_gamma import _prepared
from relmark.differentiate.models.newton import mean_negative, newton

MODELS = [BetaGeo, ModifiedBetaGeo, ParetoNBD]


def summary_columns(frame: pl.DataFrame) -> tuple[np.ndarray, ...]:
    return tuple(frame[c].to_numpy().astype(float) for c in ("frequency", "recency", "T"))


def differenced_hessian(totals, params: np.ndarray, data, weights) -> np.ndarray:
    """Central differences of the analytic gradient (itself tested against differences of
    the likelihood in test_models)."""
    k = len(params)
    hessian = np.empty((k, k))
    for i in range(k):
        step = np.zeros(k)
        step[i] = 1e-6 * params[i]
        up = totals(params + step, data, weights)[1]
        down = totals(params - step, data, weights)[1]
        hessian[:, i] = (up - down) / (2 * step[i])
    return hessian


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
@pytest.mark.parametrize("params", [(0.7, 5.0, 0.9, 3.0), (0.3, 50.0, 2.5, 1.0)])
def test_transaction_model_totals_match_the_per_row_likelihood(cdnow, model, params) -> None:
    rows, weights = base.unique_rows(*summary_columns(cdnow))
    data = base.with_distinct(rows)
    params = np.array(params)

    value, gradient, hessian = model().loglik_totals(params, data, weights)
    per_row, per_row_gradient = model().loglik(params, data)

    assert value == pytest.approx(weights @ per_row, rel=1e-12)
    np.testing.assert_allclose(gradient, weights @ per_row_gradient, rtol=1e-10)
    np.testing.assert_allclose(hessian, hessian.T, rtol=1e-12)
    expected = differenced_hessian(model().loglik_totals, params, data, weights)
    np.testing.assert_allclose(hessian, expected, rtol=1e-5, atol=1e-6 * np.abs(expected).max())


def test_gamma_gamma_totals_match_the_per_row_likelihood(cdnow) -> None:
    keep = cdnow.filter(pl.col("frequency") > 0)
    rows, weights = base.unique_rows(
        keep["frequency"].to_numpy().astype(float), keep["monetary_value"].to_numpy()
    )
    data = _prepared(*rows)
    params = np.array([4.0, 2.0, 10.0])

    value, gradient, hessian = GammaGamma.loglik_totals(params, data, weights)
    per_row, per_row_gradient = GammaGamma.loglik(params, data)

    assert value == pytest.approx(weights @ per_row, rel=1e-12)
    np.testing.assert_allclose(gradient, weights @ per_row_gradient, rtol=1e-10)
    expected = differenced_hessian(GammaGamma.loglik_totals, params, data, weights)
    np.testing.assert_allclose(hessian, expected, rtol=1e-5, atol=1e-6 * np.abs(expected).max())


def without_newton(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "newton", lambda *args, **kwargs: None)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_newton_and_the_gradient_only_fallback_find_the_same_maximum(
    cdnow, model, monkeypatch
) -> None:
    data = summary_columns(cdnow)
    fast = model().fit(*data)
    without_newton(monkeypatch)
    fallback = model().fit(*data)

    assert fast.log_likelihood == pytest.approx(fallback.log_likelihood, rel=1e-10)
    np.testing.assert_allclose(fast.values(), fallback.values(), rtol=1e-5)
    # the exact Hessian and the differenced one give the same intervals
    np.testing.assert_allclose(fast.covariance, fallback.covariance, rtol=1e-3, atol=1e-9)


def test_gamma_gamma_newton_and_fallback_find_the_same_maximum(cdnow, monkeypatch) -> None:
    x, m = cdnow["frequency"].to_numpy().astype(float), cdnow["monetary_value"].to_numpy()
    fast = GammaGamma().fit(x, m)
    without_newton(monkeypatch)
    fallback = GammaGamma().fit(x, m)

    assert fast.log_likelihood == pytest.approx(fallback.log_likelihood, rel=1e-10)
    np.testing.assert_allclose(fast.values(), fallback.values(), rtol=1e-5)


def test_newton_converges_in_few_iterations_on_cdnow(cdnow) -> None:
    rows, weights = base.unique_rows(*summary_columns(cdnow))
    objective = mean_negative(BetaGeo().loglik_totals, base.with_distinct(rows), weights)

    solved = newton(objective, np.zeros(4))

    assert solved is not None
    assert solved.iterations <= 12
    assert np.max(np.abs(solved.gradient)) < 1e-10
    np.testing.assert_allclose(np.exp(solved.theta), [0.243, 4.414, 0.793, 2.426], rtol=5e-3)


def test_newton_gives_up_on_a_likelihood_it_cannot_evaluate() -> None:
    def broken(theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        return float("nan"), np.zeros(2), np.eye(2)

    assert newton(broken, np.zeros(2)) is None


def test_unidentifiable_data_still_fails_loudly_with_newton() -> None:
    with pytest.raises(ConvergenceError, match="the data cannot identify the model"):
        BetaGeo().fit(np.zeros(50), np.zeros(50), np.full(50, 30.0))


def test_large_data_newton_from_the_pilot_reaches_the_full_maximum(monkeypatch) -> None:
    rng = np.random.default_rng(5)
    x, tx, T = simulate.bgnbd_summary(
        rng, 60_000, rng.uniform(20, 80, 60_000), r=0.8, alpha=6.0, a=0.9, b=3.0
    )
    with_pilot = BetaGeo().fit(x, tx, T)
    monkeypatch.setattr(base, "PILOT_ABOVE", 10**9)
    without_newton(monkeypatch)
    reference = BetaGeo().fit(x, tx, T)

    assert with_pilot.log_likelihood == pytest.approx(reference.log_likelihood, rel=1e-10)
    np.testing.assert_allclose(with_pilot.values(), reference.values(), rtol=1e-5)


@pytest.mark.parametrize("limit", [base.RISING_LIMIT, 0], ids=["sums", "special-functions"])
def test_rising_sums_equal_the_special_functions(limit, monkeypatch) -> None:
    monkeypatch.setattr(base, "RISING_LIMIT", limit)
    bases = np.array([0.243, 2.5, 40.0])
    counts = np.array([[0, 1, 7, 250], [3, 0, 1, 2], [5, 5, 0, 60]], dtype=float)

    logs, psis, tris = base.rising_sums(bases, counts)

    c = bases[:, None]
    np.testing.assert_allclose(logs, gammaln(c + counts) - gammaln(c), rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(psis, digamma(c + counts) - digamma(c), rtol=1e-11, atol=1e-12)
    expected = polygamma(1, c) - polygamma(1, c + counts)
    np.testing.assert_allclose(tris, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("unit", [1.0, 1 / 7], ids=["days (packed key)", "weeks (floats)"])
def test_sorted_and_hashed_distinct_rows_agree(monkeypatch, unit) -> None:
    rng = np.random.default_rng(2)
    columns = (
        rng.integers(0, 5, 3000).astype(float),
        rng.integers(0, 8, 3000) * unit,
        rng.choice([30.0, 31.0, 40.0], 3000) * unit,
    )
    by_sort = base.unique_rows(*columns)
    monkeypatch.setattr(base, "SORT_BELOW", 0)
    by_hash = base.unique_rows(*columns)
    again = base.unique_rows(*columns)

    order = np.lexsort(by_hash[0][::-1])  # the hash path keeps first-occurrence order
    for ours, theirs in zip(by_sort[0], by_hash[0], strict=True):
        np.testing.assert_array_equal(ours, theirs[order])
    np.testing.assert_array_equal(by_sort[1], by_hash[1][order])
    assert by_sort[1].sum() == 3000
    for first, second in zip(by_hash[0], again[0], strict=True):
        np.testing.assert_array_equal(first, second)  # deterministic


def test_large_fits_do_not_depend_on_the_order_of_the_rows() -> None:
    """The pilot sample is chosen by the rows' values: an engine that returns the distinct
    rows in another order gets the same fit."""
    rng = np.random.default_rng(8)
    x, tx, T = simulate.bgnbd_summary(
        rng, 80_000, rng.uniform(20, 80, 80_000), r=0.8, alpha=6.0, a=0.9, b=3.0
    )
    rows, counts = base.unique_rows(x, tx, T)
    assert len(counts) > base.PILOT_ABOVE
    order = rng.permutation(len(counts))

    first = BetaGeo().fit_distinct(*rows, counts)
    shuffled = BetaGeo().fit_distinct(*(r[order] for r in rows), counts[order])

    np.testing.assert_allclose(first.values(), shuffled.values(), rtol=1e-11)


def test_fits_from_distinct_rows_refuse_bad_counts() -> None:
    from relmark.errors import InvalidInput

    with pytest.raises(InvalidInput, match="counts must be positive, one per distinct row"):
        BetaGeo().fit_distinct([1.0, 2.0], [3.0, 4.0], [10.0, 10.0], [5.0, 0.0])
    with pytest.raises(InvalidInput, match="counts must be positive, one per distinct row"):
        BetaGeo().fit_distinct([1.0, 2.0], [3.0, 4.0], [10.0, 10.0], [5.0])
    with pytest.raises(InvalidInput, match="recency larger than T"):
        BetaGeo().fit_distinct([1.0], [30.0], [10.0], [5.0])
    with pytest.raises(InvalidInput, match="distinct rows need frequency > 0"):
        GammaGamma().fit_distinct([0.0, 2.0], [10.0, 12.0], [3.0, 4.0])


def test_distinct_frequencies_by_count_table_equal_a_sort() -> None:
    frequency = np.array([3.0, 0.0, 7.0, 3.0, 0.0, 12.0])
    fast = base.with_distinct((frequency,))
    fractional = base.with_distinct((frequency + 0.5,))

    np.testing.assert_array_equal(fast[1], [0.0, 3.0, 7.0, 12.0])
    np.testing.assert_array_equal(fast[1][fast[2]], frequency)
    np.testing.assert_array_equal(fractional[1][fractional[2]], frequency + 0.5)


def test_fits_run_blas_on_one_thread_and_restore_it(monkeypatch) -> None:
    from relmark.differentiate.models import blas

    controls = blas._controls()
    if not controls:
        pytest.skip("no OpenBLAS found in this process")
    before = [get() for get, _ in controls]
    seen = []
    original = BetaGeo._fit_rows_in_unit

    def spy(self, *args):
        seen.append([get() for get, _ in controls])
        return original(self, *args)

    monkeypatch.setattr(BetaGeo, "_fit_rows_in_unit", spy)
    rng = np.random.default_rng(1)
    BetaGeo().fit(*simulate.bgnbd_summary(rng, 2000, 50.0, r=0.8, alpha=6.0, a=0.9, b=3.0))

    assert seen == [[1] * len(controls)]
    assert [get() for get, _ in controls] == before


def test_a_tiny_last_step_is_taken_without_another_evaluation(monkeypatch) -> None:
    from relmark.differentiate.models import newton as module

    # given a smooth convex objective (log-sum-exp plus a quadratic), counted per evaluation
    calls = []

    def objective(theta):  # noqa: ANN001, ANN202
        calls.append(1)
        e = np.exp(theta)
        value = float(np.log(e.sum()) + 0.5 * theta @ theta - theta.sum())
        soft = e / e.sum()
        gradient = soft + theta - 1.0
        hessian = np.diag(soft) - np.outer(soft, soft) + np.eye(len(theta))
        return value, gradient, hessian

    start = np.array([2.0, -1.0, 0.5])
    quick = module.newton(objective, start)
    quick_calls = len(calls)
    calls.clear()
    monkeypatch.setattr(module, "FINAL_STEP", 0.0)
    full = module.newton(objective, start)

    # then the optimum is the same to 1e-10, found with one evaluation fewer
    assert quick is not None
    assert full is not None
    assert np.max(np.abs(quick.theta - full.theta)) < 1e-10
    assert quick_calls == len(calls) - 1
