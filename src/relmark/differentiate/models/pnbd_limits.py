r"""Pareto/NBD where the maximum lies at a limit of the parameter space.

As for the BG family (`limits`): purchase rate by its mean λ = r/α and heterogeneity
κ = 1/r; drop-out rate by its mean μ = s/β and heterogeneity σ = 1/s. μ = 0 is "nobody drops
out" (s → 0: the NBD alone, P(alive) = 1); σ = 0 is "the same drop-out rate for every
customer" (s, β → ∞: an exponential lifetime of mean 1/μ); κ = 0 a Poisson rate for all.

With P(y) the purchase likelihood of being alive until y (see `limits.purchase_terms`),
S(y) = (1+σμy)^{-1/σ} the chance of being alive at y and d(y) = μ(1+σμy)^{-1/σ-1} the
drop-out density, the likelihood is L = P(T)S(T) + ∫_{t_x}^{T} P(y) d(y) dy: continuous in
all four parameters at their limits. The integral is taken by Gauss-Legendre panels in y
(at most MAX_PANELS per row: the integrand's log changes smoothly).
"""

from __future__ import annotations

import time

import numpy as np

from relmark.differentiate.models.base import Array, Fit, plain
from relmark.differentiate.models.limits import LIMIT, LIMIT_FROM, purchase_terms, search

MAX_PANELS = 32
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(8)
_NODES, _WEIGHTS = (_NODES + 1) / 2, _WEIGHTS / 2


def _log_survival(mu: float, sigma: float, y: Array) -> Array:
    return -np.log1p(sigma * mu * y) / sigma if sigma > 0 else -mu * y


#: Rows per pass of the quadrature: at most 256 nodes each, so about 20 MB per node array.
CHUNK_ROWS = 10_000


def _log_death_integral(lam: float, kappa: float, mu: float, sigma: float, x, tx, T) -> Array:
    """ln ∫_{t_x}^{T} P(y) d(y) dy per row (-inf where the interval is empty or μ = 0)."""
    out = np.full(len(x), -np.inf)
    span = T - tx
    candidates = np.flatnonzero((span > 0) & (mu > 0))
    for start in range(0, len(candidates), CHUNK_ROWS):
        rows = candidates[start : start + CHUNK_ROWS]
        out[rows] = _chunk_log_integral(lam, kappa, mu, sigma, x[rows], tx[rows], T[rows])
    return out


def _chunk_log_integral(
    lam: float, kappa: float, mu: float, sigma: float, x: Array, tx: Array, T: Array
) -> Array:
    """`_log_death_integral` for rows with a non-empty interval: one panel count for all
    (the largest the rows need, at most MAX_PANELS), 8 Gauss-Legendre nodes per panel."""
    span = T - tx
    slope = (1 + x * kappa) * lam + (1 + sigma) * mu
    panels = int(min(MAX_PANELS, max(1, np.ceil(np.max(slope * span) / 4))))
    h = span / panels
    offsets = (np.arange(panels)[:, None] + _NODES[None, :]).ravel()
    y = tx[:, None] + h[:, None] * offsets[None, :]
    xs = np.repeat(x[:, None], y.shape[1], axis=1)
    # d(y) = μ (1+σμy)^{-1/σ-1}: ln μ + (1+σ) ln S(y)
    log_f = (
        purchase_terms(lam, kappa, xs.ravel(), y.ravel()).reshape(y.shape)
        + np.log(mu)
        + (1 + sigma) * _log_survival(mu, sigma, y)
    )
    log_w = np.log(h)[:, None] + np.log(np.tile(_WEIGHTS, panels))[None, :]
    terms = log_f + log_w
    top = terms.max(axis=1)
    return top + np.log(np.exp(terms - top[:, None]).sum(axis=1))


def parts(z: Array, x: Array, tx: Array, T: Array, rate: float) -> tuple[Array, Array]:
    """(log-likelihood, log of the alive part) per row at z = (ln λ, κ, μ/rate, σ)."""
    lam, kappa, mu, sigma = float(np.exp(z[0])), float(z[1]), float(z[2]) * rate, float(z[3])
    alive = purchase_terms(lam, kappa, x, T) + _log_survival(mu, sigma, T)
    dead = _log_death_integral(lam, kappa, mu, sigma, x, tx, T)
    return np.logaddexp(alive, dead), alive


def fit_at_limits(name: str, rows: tuple[Array, ...], weights: Array, *, started: float) -> Fit:
    """The maximum over the closed parameter space, with a note when it is a limit."""
    x, tx, T = rows
    z, rate, log_likelihood = search(
        name,
        lambda z, rate: parts(z, x, tx, T, rate)[0],
        rows,
        weights,
        starts=((1.0, 0.5, 1.0), (0.1, 0.1, 0.1), (3.0, 2.0, 3.0)),
        upper=(1e4, 1e4, 1e4),
    )
    lam, kappa, mu, sigma = float(np.exp(z[0])), float(z[1]), float(z[2]) * rate, float(z[3])
    return Fit(
        model=name,
        params=native(lam, kappa, mu, sigma),
        log_likelihood=log_likelihood,
        n_customers=int(weights.sum()),
        fit_seconds=time.perf_counter() - started,
        covariance=None,
        note=describe(lam, kappa, mu, sigma),
    )


def native(lam: float, kappa: float, mu: float, sigma: float) -> dict[str, float]:
    """(r, alpha, s, beta), LIMIT standing for infinity; s = 0 is no drop-out."""
    r = LIMIT if kappa == 0 else 1.0 / kappa
    if mu == 0:
        return {"r": r, "alpha": r / lam, "s": 0.0, "beta": 1.0}
    s = LIMIT if sigma == 0 else 1.0 / sigma
    return {"r": r, "alpha": r / lam, "s": s, "beta": s / mu}


def at_limit(params: Array) -> bool:
    r, _, s, _ = params
    return bool(r >= LIMIT_FROM or s >= LIMIT_FROM or s == 0)


def reduced(params: Array) -> tuple[float, float, float, float]:
    """(λ, κ, μ, σ) from (r, alpha, s, beta), exact at the limits."""
    r, alpha, s, beta = (float(v) for v in params)
    kappa = 0.0 if r >= LIMIT_FROM else 1.0 / r
    sigma = 0.0 if s >= LIMIT_FROM else (1.0 / s if s > 0 else np.inf)
    return r / alpha, kappa, s / beta, sigma


def describe(lam: float, kappa: float, mu: float, sigma: float) -> str | None:
    notes = []
    if kappa == 0:
        notes.append(
            f"every customer buys at the same rate ({plain(lam)} purchases per period while "
            "active; r and alpha at their limit)"
        )
    if mu == 0:
        notes.append("nobody drops out: every customer is still active (P(alive) = 1; s = 0)")
    elif sigma == 0:
        notes.append(
            f"drop-out is the same for every customer: {plain(mu)} per period, a mean "
            f"lifetime of {plain(1 / mu)} periods (s and beta at their limit)"
        )
    return "; ".join(notes) if notes else None


def probability_alive(params: Array, x: Array, tx: Array, T: Array) -> Array:
    lam, kappa, mu, sigma = reduced(params)
    if mu == 0:
        return np.ones(len(x))
    z = np.array([np.log(lam), kappa, mu, 0.0 if sigma == np.inf else sigma])
    total, alive = parts(z, x, tx, T, 1.0)
    return np.exp(alive - total)


def expected_given_alive(params: Array, x: Array, T: Array, t: Array) -> Array:
    """E[purchases in (T, T+t] | alive at T] = E[rate | alive] · E[min(remaining life, t)]."""
    lam, kappa, mu, sigma = reduced(params)
    rate = lam * (1 + x * kappa) / (1 + kappa * lam * T)
    if mu == 0:
        return rate * t
    if sigma == 0:
        return rate * -np.expm1(-mu * t) / mu
    c = sigma * mu / (1 + sigma * mu * T)
    power = 1 - 1 / sigma
    if abs(power) < 1e-12:
        return rate * np.log1p(c * t) / c
    return rate * np.expm1(power * np.log1p(c * t)) / (c * power)
