r"""BG/NBD and MBG/NBD where the maximum lies at a limit of the parameter space.

Small shops' data often say "every customer drops out with the same probability" (a, b → ∞
with a/(a+b) fixed) or "every customer buys at the same rate" (r, α → ∞ with r/α fixed) or
"nobody drops out" (a → 0). In (r, α, a, b) those answers lie at infinity, where an optimiser
runs away. Here the model is written in parameters whose limits are ordinary values:

- purchase rate by its mean λ = r/α and heterogeneity κ = 1/r (κ = 0: a Poisson rate λ
  for every customer);
- drop-out by its mean μ = a/(a+b) and polarisation φ = 1/(a+b+1) (φ = 0: probability μ
  for every customer; μ = 0: nobody drops out).

The log-likelihood is continuous up to and including those values:
lnΓ(r+x) - lnΓ(r) + r ln α - (r+x) ln(α+t) = x ln λ + Σ_{k<x} ln(1+kκ) - (x + 1/κ) ln(1+κλt)
(→ x ln λ - λt as κ → 0), and ln B(a, b+x) - ln B(a, b) = Σ_{k<x} ln(((1-μ)(1-φ) + kφ) /
((1-φ) + kφ)). A bounded search over (ln λ, κ, μ, φ) finds the maximum wherever it is; a
limit is reported in the fit's note, and the parameters are stored in the usual names with
LIMIT standing for infinity (the predictions recognise it and use the limiting formulas).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from relmark.differentiate.models.base import Array, ConvergenceError, Fit, plain
from relmark.differentiate.models.special import roots_jacobi

#: Stands for infinity in stored parameters (JSON has no infinity): a + b or r at least this
#: is the limit itself. Predictions treat anything past LIMIT_FROM as the limit (error ~1e-9).
LIMIT = 1e15
LIMIT_FROM = 1e9
#: Search box: κ = 1/r up to 1e4 (r down to 1e-4), μ and φ short of 1.
KAPPA_MAX = 1e4
ALMOST_ONE = 1 - 1e-9
#: A limit parameter this close to its limit value counts as reached.
AT_LIMIT = 1e-7


def purchase_terms(lam: float, kappa: float, x: Array, t: Array) -> Array:
    """x ln λ + Σ_{k<x} ln(1+kκ) - (x + 1/κ) ln(1+κλt) per row, continuous at κ = 0."""
    log_growth = np.log1p(kappa * lam * t)
    per_unit = log_growth / kappa if kappa > 0 else lam * t
    return x * np.log(lam) + _rising_log(kappa, x) - x * log_growth - per_unit


def _rising_log(kappa: float, x: Array) -> Array:
    """Σ_{k<x} ln(1 + kκ) for whole x ≥ 0."""
    whole = x.astype(np.int64)
    top = int(whole.max()) if whole.size else 0
    sums = np.concatenate([[0.0], np.cumsum(np.log1p(kappa * np.arange(top)))])
    return sums[whole]


def dropout_terms(mu: float, phi: float, survived: Array) -> Array:
    """ln B(a, b+n) - ln B(a, b) for n = `survived` purchases survived, in (μ, φ)."""
    whole = survived.astype(np.int64)
    top = int(whole.max()) if whole.size else 0
    k = np.arange(top)
    with np.errstate(divide="ignore"):
        steps = np.log((1 - mu) * (1 - phi) + k * phi) - np.log((1 - phi) + k * phi)
    return np.concatenate([[0.0], np.cumsum(steps)])[whole]


def death_coefficient(mu: float, phi: float, survived: Array) -> Array:
    """a / (b + n): the odds factor of having dropped out right after the n-th survived
    purchase, in (μ, φ); n = x - 1 for BG/NBD, x for MBG/NBD."""
    return mu * (1 - phi) / ((1 - mu) * (1 - phi) + survived * phi)


def loglik_limits(z: Array, x: Array, tx: Array, T: Array, *, modified: bool) -> Array:
    """Per-row log-likelihood at z = (ln λ, κ, μ, φ)."""
    lam, kappa, mu, phi = float(np.exp(z[0])), float(z[1]), float(z[2]), float(z[3])
    shift = 1.0 if modified else 0.0
    alive = purchase_terms(lam, kappa, x, T)
    with np.errstate(divide="ignore"):
        coefficient = np.log(death_coefficient(mu, phi, np.maximum(x - 1 + shift, 0.0)))
    dead = purchase_terms(lam, kappa, x, tx) + coefficient
    if not modified:
        dead = np.where(x > 0, dead, -np.inf)
    return dropout_terms(mu, phi, x + shift) + np.logaddexp(alive, dead)


def search(
    name: str,
    loglik: Callable[[Array, float], Array],
    rows: tuple[Array, ...],
    weights: Array,
    *,
    starts: tuple[tuple[float, float, float], ...],
    upper: tuple[float, float, float],
) -> tuple[Array, float, float]:
    """Maximise Σ weights · loglik(z, rate) over z = (ln λ, three limit parameters ≥ 0),
    from a few starts, by L-BFGS-B in a box (so it cannot run away); limit parameters within
    AT_LIMIT of 0 are set to 0. Returns z, the data's purchase rate and the log-likelihood.

    Refuses, in plain words, data without any repeat purchase or time, and answers where
    the purchase rate itself runs to the edge.
    """
    from scipy.optimize import minimize  # only for limit answers: a costly import

    x, _, T = rows
    total = float(weights.sum())
    repeats = float(weights @ x)
    if repeats == 0 or not np.any(T > 0):
        raise ConvergenceError(
            f"{name}: no customer has bought twice (or nobody has been a customer for any "
            "time), so there is no purchase rate or drop-out to estimate: the data cannot "
            "identify the model; wait for repeat purchases, or use the RFM scores, which "
            "need no model"
        )
    rate = repeats / float(weights @ T)

    def objective(z: Array) -> float:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            value = -float(weights @ loglik(z, rate)) / total
        return value if np.isfinite(value) else 1e300

    low, high = np.log(rate) - 15, np.log(rate) + 15
    bounds = [(low, high), *((0.0, u) for u in upper)]
    best = None
    for start in starts:
        result = minimize(
            objective,
            np.array([np.log(rate), *start]),
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": 500, "ftol": 1e-14, "gtol": 1e-9},
        )
        if best is None or result.fun < best.fun:
            best = result
    assert best is not None
    z = _snap(best.x)
    value = objective(z)
    if value >= 1e299:
        raise ConvergenceError(f"{name}: the likelihood cannot be evaluated on these data")
    if min(z[0] - low, high - z[0]) < 1e-6:
        raise ConvergenceError(
            f"{name}: the purchase rate runs to {plain(np.exp(z[0]))} per period: the data "
            "cannot identify the model (too few repeat purchases?)"
        )
    return z, rate, -value * total


def fit_at_limits(
    name: str, rows: tuple[Array, ...], weights: Array, *, modified: bool, started: float
) -> Fit:
    """The maximum over the closed parameter space, with a note when it is a limit."""
    x, tx, T = rows
    z, _, log_likelihood = search(
        name,
        lambda z, _: loglik_limits(z, x, tx, T, modified=modified),
        rows,
        weights,
        starts=((1.0, 0.2, 0.3), (0.1, 0.05, 0.05), (3.0, 0.5, 0.6)),
        upper=(KAPPA_MAX, ALMOST_ONE, ALMOST_ONE),
    )
    lam, kappa, mu, phi = float(np.exp(z[0])), *(float(v) for v in z[1:])
    if mu >= ALMOST_ONE - 1e-6:
        raise ConvergenceError(
            f"{name}: the data say every customer drops out right after buying (drop-out "
            f"probability {plain(mu)}): too few repeat purchases to value anyone yet"
        )
    return Fit(
        model=name,
        params=native(lam, kappa, mu, phi),
        log_likelihood=log_likelihood,
        n_customers=int(weights.sum()),
        fit_seconds=time.perf_counter() - started,
        covariance=None,
        note=describe(lam, kappa, mu, phi, modified=modified),
    )


def _snap(z: Array) -> Array:
    """Limit parameters within AT_LIMIT of their limit become the limit exactly."""
    z = z.copy()
    for i in (1, 2, 3):
        if z[i] < AT_LIMIT:
            z[i] = 0.0
    return z


def native(lam: float, kappa: float, mu: float, phi: float) -> dict[str, float]:
    """(r, alpha, a, b), with LIMIT standing for infinity (a = 0: nobody drops out)."""
    r = LIMIT if kappa == 0 else 1.0 / kappa
    size = LIMIT if phi == 0 else (1 - phi) / phi
    if mu == 0:
        return {"r": r, "alpha": r / lam, "a": 0.0, "b": 1.0}
    return {"r": r, "alpha": r / lam, "a": mu * size, "b": (1 - mu) * size}


def at_limit(params: Array) -> bool:
    """Whether stored parameters (r, alpha, a, b) describe a limit (see `native`)."""
    r, _, a, b = params
    return bool(r >= LIMIT_FROM or a + b >= LIMIT_FROM or a == 0)


def reduced(params: Array) -> tuple[float, float, float, float]:
    """(λ, κ, μ, φ) from (r, alpha, a, b), exact at the limits."""
    r, alpha, a, b = (float(v) for v in params)
    kappa = 0.0 if r >= LIMIT_FROM else 1.0 / r
    phi = 0.0 if a + b >= LIMIT_FROM else 1.0 / (a + b + 1)
    return r / alpha, kappa, a / (a + b), phi


def describe(lam: float, kappa: float, mu: float, phi: float, *, modified: bool) -> str | None:
    """The note of a limit answer: which limit, and what it means for customers."""
    parts = []
    if kappa == 0:
        parts.append(
            f"every customer buys at the same rate ({plain(lam)} purchases per period while "
            "active; a Poisson process, r and alpha at their limit)"
        )
    if mu == 0:
        parts.append("nobody drops out: every customer is still active (P(alive) = 1)")
    elif phi == 0:
        when = "at and after each purchase" if modified else "after each purchase"
        parts.append(
            f"drop-out is the same for every customer: p = {plain(mu)} {when} (a and b at "
            "their limit)"
        )
    return "; ".join(parts) if parts else None


def odds_dead(params: Array, x: Array, tx: Array, T: Array, *, modified: bool) -> Array:
    """Odds of having dropped out, from the limit form (any parameters)."""
    lam, kappa, mu, phi = reduced(params)
    survived = np.maximum(x - (0.0 if modified else 1.0), 0.0)
    log_ratio = purchase_terms(lam, kappa, x, tx) - purchase_terms(lam, kappa, x, T)
    odds = death_coefficient(mu, phi, survived) * np.exp(log_ratio)
    return odds if modified else np.where(x > 0, odds, 0.0)


#: Gauss-Jacobi nodes for the expectation over a beta drop-out probability.
JACOBI_NODES = 48


def expected_given_alive(
    params: Array, x: Array, T: Array, t: Array, *, modified: bool, new: bool = False
) -> Array:
    """E[purchases in (T, T+t] | alive at T] in the limit form; with `new`, E[Y(t)] of a
    customer just acquired (x = 0, T = 0, alive at 0 with MBG/NBD's chance of 1 - p).

    Given alive, the rate λ is gamma (r+x, α+T) and the drop-out probability p beta
    (a, b+n) with n purchases survived; for given λ and p the expectation is
    (1 - e^{-λpt}) / p (alive until the first of Poisson(λp) deaths), so over λ it is
    (1 - (1 + pt/(α+T))^{-(r+x)}) / p, then averaged over p (Gauss-Jacobi; exact at φ = 0).
    """
    lam, kappa, mu, phi = reduced(params)
    shape = np.broadcast(*(np.asarray(v) for v in (x, T, t))).shape
    x, T, t = (np.broadcast_to(np.asarray(v, dtype=float), shape).ravel() for v in (x, T, t))
    return _expected_given_alive(params, lam, kappa, mu, phi, x, T, t, modified, new).reshape(shape)


def _expected_given_alive(
    params: Array,
    lam: float,
    kappa: float,
    mu: float,
    phi: float,
    x: Array,
    T: Array,
    t: Array,
    modified: bool,
    new: bool,
) -> Array:
    scale = lam * t / (1 + kappa * lam * T)
    heavy = 1 + x * kappa

    def given(p: float, rows: Array | slice = slice(None)) -> Array:
        """The expectation for a known drop-out probability p, averaged over λ."""
        h, c = heavy[rows], scale[rows]
        if p == 0:
            return h * c
        exponent = h * (np.log1p(kappa * p * c) / kappa if kappa else p * c)
        value = -np.expm1(-exponent) / p
        return value * (1 - p) if (new and modified) else value

    if mu == 0:
        return given(0.0)
    if phi == 0:
        return given(mu)
    _, _, a, b = (float(v) for v in params)
    survived = x + (1.0 if modified and not new else 0.0)
    out = np.empty(x.shape)
    for n in np.unique(survived):
        rows = survived == n
        nodes, weights = roots_jacobi(JACOBI_NODES, b + n - 1, a - 1)
        p = (nodes + 1) / 2
        total = np.zeros(int(rows.sum()))
        for node, weight in zip(p, weights, strict=True):
            total += weight * given(float(node), rows)
        out[rows] = total / weights.sum()
    return out
