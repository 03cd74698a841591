r"""Gamma-Gamma where customers' mean spend does not differ: q, γ → ∞ with γ/q fixed.

Small shops' data often say "every customer spends alike on average": the maximum of the
Gamma-Gamma likelihood then lies at q → ∞, where an optimiser runs away. In that limit each
customer's transaction rate ν is the same ν₀ for everyone, and a customer's mean of x repeat
transactions is Gamma(px, xν₀):

.. math::
    \ell = px\ln(x\nu_0) + (px-1)\ln m - x\nu_0 m - \ln\Gamma(px)

Given p, the maximum over ν₀ is closed-form (ν₀ = p Σwx / Σwxm), so the fit is a bounded
one-dimensional search over ln p. The answer is stored in the usual names with q = LIMIT and
γ = LIMIT/ν₀: the usual formulas then give every customer the population mean p/ν₀ (to ~1e-13),
which is what the data say when customers' means do not differ.
"""

from __future__ import annotations

import time

import numpy as np

from relmark.differentiate.models.base import Array, ConvergenceError, Fit
from relmark.differentiate.models.special import gammaln

#: Stands for infinity in stored parameters (JSON has no infinity).
LIMIT = 1e15
#: Search box for ln p: p from 1e-4 to 1e6; an answer on its edge is no answer.
LOG_P_BOUNDS = (np.log(1e-4), np.log(1e6))


def fit_alike_spend(rows: tuple[Array, Array], counts: Array) -> Fit:
    """The limit answer for repeat customers' (x, m) rows with `counts`, or ConvergenceError
    when p itself runs to an edge (e.g. every purchase of a customer has the same value)."""
    from scipy.optimize import minimize_scalar  # only for this answer: a costly import

    started = time.perf_counter()
    x, m = rows
    wx, wxm = float(counts @ x), float(counts @ (x * m))
    log_xm, log_m = np.log(x), np.log(m)

    def loglik(log_p: float) -> float:
        p = np.exp(log_p)
        nu = p * wx / wxm
        px = p * x
        per_row = px * (log_xm + np.log(nu)) + (px - 1) * log_m - x * nu * m - gammaln(px)
        return float(counts @ per_row)

    low, high = LOG_P_BOUNDS
    result = minimize_scalar(lambda z: -loglik(z), bounds=(low, high), method="bounded")
    log_p = float(result.x)
    if not result.success or min(log_p - low, high - log_p) < 1e-3:
        raise ConvergenceError(
            "the spend model (Gamma-Gamma) could not be fitted: customers' purchases vary "
            "too little or too much for it to learn how spend varies; try a longer history"
        )
    p = float(np.exp(log_p))
    nu = p * wx / wxm
    mean = p / nu
    return Fit(
        "gg",
        {"p": p, "q": LIMIT, "gamma": LIMIT / nu},
        loglik(log_p),
        int(counts.sum()),
        time.perf_counter() - started,
        note=(
            f"customers' mean spend does not differ: every customer is valued at the "
            f"population mean of {mean:.4g} per purchase"
        ),
    )
