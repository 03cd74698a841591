r"""MBG/NBD: the BG/NBD with a possible drop-out right after the first purchase too.

.. math::
    \ell = \ln\Gamma(r+x) - \ln\Gamma(r) + r\ln\alpha
         + \ln B(a, b+x+1) - \ln B(a, b)
         + \ln\Big[(\alpha+T)^{-(r+x)} + \tfrac{a}{b+x}\,(\alpha+t_x)^{-(r+x)}\Big]

References
----------
Batislam, E. P., Denizel, M. & Filiztekin, A. (2007). Empirical validation and comparison of
models for customer base analysis. International Journal of Research in Marketing 24(3),
201-209. On the CDNOW sample (as reproduced by the lifetimes test suite): r = 0.525,
alpha = 6.183, a = 0.891, b = 1.614.
"""

from __future__ import annotations

import numpy as np

from relmark.differentiate.models.base import Array
from relmark.differentiate.models.bgnbd import BetaGeo, beta_geo_totals
from relmark.differentiate.models.special import betaln, digamma, gammaln, hyp2f1


class ModifiedBetaGeo(BetaGeo):
    """Shares BG/NBD's prediction code; differs in the likelihood, the odds of having
    dropped out and the expectation's hypergeometric term."""

    name = "mbgnbd"
    param_names = ("r", "alpha", "a", "b")
    start = (1.0, 1.0, 1.0, 1.0)
    modified = True

    def loglik(self, params: Array, data: tuple[Array, ...]) -> tuple[Array, Array]:
        r, alpha, a, b = params
        x, tx, T, xs, index = data
        a1 = (gammaln(r + xs) - gammaln(r))[index] + r * np.log(alpha)
        a2 = (betaln(a, b + xs + 1) - betaln(a, b))[index]
        log_alpha_t = np.log(alpha + T)
        log_alpha_tx = np.log(alpha + tx)
        a3 = -(r + x) * log_alpha_t
        a4 = np.log(a) - np.log(b + x) - (r + x) * log_alpha_tx
        mix = np.logaddexp(a3, a4)
        w3 = np.exp(a3 - mix)
        w4 = 1.0 - w3
        d_ab = digamma(a + b)
        d_abx = digamma(a + b + xs + 1)[index]
        grad = np.column_stack(
            [
                (digamma(r + xs) - digamma(r))[index]
                + np.log(alpha)
                - w3 * log_alpha_t
                - w4 * log_alpha_tx,
                r / alpha - (r + x) * (w3 / (alpha + T) + w4 / (alpha + tx)),
                d_ab - d_abx + w4 / a,
                d_ab + (digamma(b + xs + 1) - digamma(b))[index] - d_abx - w4 / (b + x),
            ]
        )
        return a1 + a2 + mix, grad

    def loglik_totals(
        self, params: Array, data: tuple[Array, ...], weights: Array
    ) -> tuple[float, Array, Array]:
        return beta_geo_totals(params, data, weights, modified=True)

    def _odds_dead_interior(self, x: Array, tx: Array, T: Array) -> Array:
        r, alpha, a, b = self.params
        return np.exp(
            np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
        )

    def _body_interior(self, x: Array, T: Array, t: Array) -> Array:
        """The part of E[Y(t)] that depends on (x, T, t) only (with the hypergeometric term)."""
        r, alpha, a, b = self.params
        z = t / (alpha + T + t)
        ratio = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t)))
        return (a + b + x) / (a - 1) * (1.0 - ratio * hyp2f1(r + x, b + x + 1, a + b + x, z))

    def _new_interior(self, t: float | Array) -> Array:
        r, alpha, a, b = self.params
        t = np.asarray(t, dtype=float)
        ratio = (alpha / (alpha + t)) ** r
        return b / (a - 1) * (1 - ratio * hyp2f1(r, b + 1, a + b, t / (alpha + t)))
