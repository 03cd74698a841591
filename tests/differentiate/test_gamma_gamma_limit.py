"""Gamma-Gamma when customers' mean spend does not differ: the limit q → ∞ is an answer."""

from __future__ import annotations

import numpy as np
import pytest

from relmark.differentiate.models import GammaGamma
from relmark.differentiate.models.gamma_gamma_limit import fit_alike_spend


def _alike_spenders(customers: int = 80, seed: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Every customer's purchases are Gamma(p=4, ν=0.1): mean 40 for everyone. On about half
    of such small samples the usual maximum lies at q → ∞ (this seed is one of them)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 6, size=customers).astype(float)
    m = np.array([rng.gamma(4.0, 1 / 0.1, size=int(n)).mean() for n in x])
    return x, m


def test_alike_spenders_get_the_population_mean_instead_of_an_error() -> None:
    x, m = _alike_spenders()
    model = GammaGamma()
    fit = model.fit(x, m)

    assert fit.note is not None
    assert "does not differ" in fit.note
    assert fit.covariance is None
    spend = model.expected_spend(x, m)
    assert np.allclose(spend, spend[0], rtol=1e-9)  # everyone alike, whatever their own mean
    assert spend[0] == pytest.approx(float((x * m).sum() / x.sum()), rel=0.05)
    assert spend[0] == pytest.approx(40.0, rel=0.1)  # the simulated mean
    assert model.expected_spend(np.array([0.0]), np.array([0.0]))[0] == pytest.approx(spend[0])


def test_the_limit_likelihood_is_the_usual_one_at_large_q() -> None:
    x, m = _alike_spenders(100)
    limit = fit_alike_spend((x, m), np.ones_like(x))
    p = limit.params["p"]
    nu = limit.params["q"] / limit.params["gamma"]
    usual, _ = GammaGamma.loglik(np.array([p, 1e9, 1e9 / nu]), (x, m))
    assert float(usual.sum()) == pytest.approx(limit.log_likelihood, rel=1e-6)


def test_heterogeneous_spenders_still_get_the_usual_fit() -> None:
    rng = np.random.default_rng(5)
    x = rng.integers(1, 6, size=600).astype(float)
    nu = rng.gamma(3.0, 1 / 15.0, size=600)  # q = 3, gamma = 15: means differ a lot
    m = np.array([rng.gamma(6.0, 1 / v, size=int(n)).mean() for n, v in zip(x, nu, strict=True)])
    fit = GammaGamma().fit(x, m)
    assert fit.note is None
    assert fit.covariance is not None
    assert fit.params["q"] < 100


def test_customers_list_says_why_an_interval_is_empty() -> None:
    from relmark.interfaces.score_view import customers_notes

    row = {"p_alive": 0.9, "clv_minor": 6687, "customer_id": 1, "explanation": "so loyal"}
    run = {"settings": {"horizon_months": 12, "costs": {"default_margin_rate": 0.35}}}
    without = customers_notes(run, [{**row, "clv_p10_minor": None, "clv_p90_minor": None}])
    with_interval = customers_notes(run, [{**row, "clv_p10_minor": 5000, "clv_p90_minor": 8000}])

    assert any(n.startswith("80% interval: not computed: a model answered") for n in without)
    assert not any(n.startswith("80% interval") for n in with_interval)
