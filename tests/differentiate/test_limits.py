"""Maxima at the limits of the parameter space are answers: the limit forms equal the usual
likelihoods and predictions inside the space, the limiting predictions equal their direct
formulas, and no fit on a hostile small store runs away in time or memory."""

from __future__ import annotations

import time
import tracemalloc
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relmark.differentiate import simulate
from relmark.differentiate.models import (
    TRANSACTION_MODELS,
    BetaGeo,
    ConvergenceError,
    ModifiedBetaGeo,
    ParetoNBD,
    limits,
    pnbd_limits,
)
from relmark.differentiate.models.base import with_distinct
from relmark.differentiate.summary import rfm_summary

from .test_models import columns

BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PNBD = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}


def bg_z(r: float, alpha: float, a: float, b: float) -> np.ndarray:
    return np.array([np.log(r / alpha), 1 / r, a / (a + b), 1 / (a + b + 1)])


@pytest.mark.parametrize("model", [BetaGeo, ModifiedBetaGeo], ids=["bgnbd", "mbgnbd"])
def test_bg_limit_form_equals_the_usual_likelihood_inside(cdnow, model) -> None:
    x, tx, T = columns(cdnow)
    usual, _ = model().loglik(np.array(list(BG.values())), with_distinct((x, tx, T)))

    limit_form = limits.loglik_limits(bg_z(**BG), x, tx, T, modified=model.modified)

    np.testing.assert_allclose(limit_form, usual, rtol=1e-10)


def test_pareto_limit_form_equals_the_usual_likelihood_inside(cdnow) -> None:
    x, tx, T = columns(cdnow)
    r, alpha, s, beta = PNBD.values()
    usual, _ = ParetoNBD().loglik(np.array([r, alpha, s, beta]), with_distinct((x, tx, T)))
    z = np.array([np.log(r / alpha), 1 / r, s / beta, 1 / s])

    limit_form, _ = pnbd_limits.parts(z, x, tx, T, 1.0)

    # the Gamma-function constant is in both; only the quadrature differs (32 panels at most)
    np.testing.assert_allclose(limit_form, usual, rtol=1e-8)


@pytest.mark.parametrize("model", [BetaGeo, ModifiedBetaGeo], ids=["bgnbd", "mbgnbd"])
def test_bg_limit_predictions_equal_the_closed_forms_inside(cdnow, model) -> None:
    x, tx, T = columns(cdnow)
    usual = model.with_params(**BG)
    params = usual.params

    odds = limits.odds_dead(params, x, tx, T, modified=model.modified)
    given_alive = limits.expected_given_alive(params, x, T, 39.0, modified=model.modified)
    new = limits.expected_given_alive(params, 0.0, 0.0, 39.0, modified=model.modified, new=True)

    np.testing.assert_allclose(odds, usual._odds_dead_interior(x, tx, T), rtol=1e-10)
    np.testing.assert_allclose(given_alive, usual._body_interior(x, T, 39.0), rtol=1e-9)
    assert new == pytest.approx(float(usual._new_interior(39.0)), rel=1e-9)


def test_pareto_limit_predictions_equal_the_closed_forms_inside(cdnow) -> None:
    x, tx, T = columns(cdnow)
    usual = ParetoNBD.with_params(**PNBD)
    alive = usual.probability_alive(x, tx, T)

    np.testing.assert_allclose(
        pnbd_limits.probability_alive(usual.params, x, tx, T), alive, rtol=1e-7
    )
    np.testing.assert_allclose(
        pnbd_limits.expected_given_alive(usual.params, x, T, 39.0) * alive,
        usual.expected_purchases(39.0, x, tx, T),
        rtol=1e-7,
    )


def test_homogeneous_limits_predict_by_their_direct_formulas() -> None:
    """p the same for all, a Poisson rate λ for all: P(alive) = 1 / (1 + p/(1-p) e^{λ(T-t_x)})
    for a repeat buyer, E[Y(t) | alive] = (1 - e^{-λpt}) / p (alive until the first of the
    Poisson(λp) deaths); Pareto/NBD with drop-out rate μ: E[Y(t) | alive] = λ(1 - e^{-μt})/μ."""
    lam, p, mu = 0.3, 0.2, 0.05
    x, tx, T = np.array([0.0, 2.0, 5.0]), np.array([0.0, 10.0, 30.0]), np.array([40.0, 40.0, 40.0])
    bg = BetaGeo.with_params(**limits.native(lam, 0.0, p, 0.0))
    pnbd = ParetoNBD.with_params(**pnbd_limits.native(lam, 0.0, mu, 0.0))

    odds = np.where(x > 0, p / (1 - p) * np.exp(lam * (T - tx)), 0.0)
    np.testing.assert_allclose(bg.probability_alive(x, tx, T), 1 / (1 + odds), rtol=1e-12)
    np.testing.assert_allclose(
        bg.expected_purchases(13.0, x, tx, T),
        -np.expm1(-lam * p * 13.0) / p / (1 + odds),
        rtol=1e-12,
    )
    dead = mu / (lam + mu) * (np.exp((lam + mu) * (T - tx)) - 1)
    np.testing.assert_allclose(pnbd.probability_alive(x, tx, T), 1 / (1 + dead), rtol=1e-8)
    np.testing.assert_allclose(
        pnbd.expected_purchases(13.0, x, tx, T),
        lam * -np.expm1(-mu * 13.0) / mu / (1 + dead),
        rtol=1e-8,
    )


def test_homogeneous_dropout_prediction_matches_a_simulation() -> None:
    rng = np.random.default_rng(5)
    lam, p, t, n = 0.4, 0.15, 20.0, 400_000
    bg = BetaGeo.with_params(**limits.native(lam, 0.0, p, 0.0))
    # a customer just acquired: purchases at rate λ, drop-out with probability p after each
    count, clock = np.zeros(n), np.zeros(n)
    alive = np.ones(n, dtype=bool)
    while alive.any():
        clock += rng.exponential(1 / lam, n)
        alive &= clock < t
        count += alive
        alive &= rng.random(n) >= p

    assert float(bg.expected_purchases_new(t)) == pytest.approx(count.mean(), rel=0.01)


def small_summary(shape: str, seed: int) -> tuple[np.ndarray, ...]:
    transactions = simulate.small_store(np.random.default_rng(seed), shape)
    days = 0 if shape == "one_day" else 548
    as_of = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=days)
    summary = rfm_summary(transactions, as_of=as_of, time_unit="week")
    return tuple(summary[c].to_numpy().astype(float) for c in ("frequency", "recency", "T"))


def test_nobody_drops_out_is_reported_with_p_alive_one() -> None:
    x, tx, T = small_summary("no_churn", 0)
    for name, model in TRANSACTION_MODELS.items():
        fitted = model()
        fit = fitted.fit(x, tx, T)

        assert fit.note is not None, name
        assert "nobody drops out" in fit.note, name
        np.testing.assert_allclose(fitted.probability_alive(x, tx, T), 1.0)
        r, alpha = fit.params["r"], fit.params["alpha"]
        np.testing.assert_allclose(
            fitted.expected_purchases(10.0, x, tx, T), (r + x) / (alpha + T) * 10.0, rtol=1e-9
        )


def check_fit_is_bounded(name: str, x, tx, T) -> None:
    """Parameters (maybe a limit with its note) or a plain ConvergenceError, in < 10 s and
    < 500 MB of allocations; predictions finite."""
    model = TRANSACTION_MODELS[name]()
    tracemalloc.start()
    started = time.perf_counter()
    try:
        fit = model.fit(x, tx, T)
    except ConvergenceError as error:
        message = str(error)
        assert "np.float64" not in message
        assert "identify" in message or "drops out" in message, message
        fit = None
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert seconds < 10, f"{name} took {seconds:.1f} s"
    assert peak < 500e6, f"{name} allocated {peak / 1e6:.0f} MB"
    if fit is not None:
        assert all(np.isfinite(v) for v in fit.params.values()), fit.params
        alive = model.probability_alive(x, tx, T)
        expected = model.expected_purchases(26.0, x, tx, T)
        assert np.all((alive >= 0) & (alive <= 1))
        assert np.all(np.isfinite(expected))
        assert np.all(expected >= 0)


@pytest.mark.parametrize("shape", simulate.SMALL_STORES)
@pytest.mark.parametrize("name", list(TRANSACTION_MODELS))
def test_every_fit_on_a_hostile_small_store_answers_within_bounds(shape, name) -> None:
    check_fit_is_bounded(name, *small_summary(shape, 0))


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shape=st.sampled_from(["no_churn", "homogeneous_churn", "everyone_churns", "three_customers"]),
    name=st.sampled_from(list(TRANSACTION_MODELS)),
    seed=st.integers(1, 10_000),
)
def test_fits_on_random_small_stores_answer_within_bounds(shape, name, seed) -> None:
    check_fit_is_bounded(name, *small_summary(shape, seed))


def test_gamma_gamma_that_cannot_be_fitted_says_so_in_plain_words() -> None:
    from relmark.differentiate.models import GammaGamma

    # identical means: no spread within or between customers to learn from (3 customers whose
    # means differ get the limit answer "customers' mean spend does not differ" instead)
    with pytest.raises(ConvergenceError) as caught:
        GammaGamma().fit([2.0, 1.0, 2.0], [20.0, 20.0, 20.0])

    message = str(caught.value)
    assert message.startswith("gg fit ")
    assert "(p 2.71828e+06, q 2.71828e+06, gamma 20)" in message
    assert "np.float64" not in message
    assert "ABNORMAL" not in message.upper()
