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
from scipy.special import betaln, digamma, gammaln, hyp2f1

from relmark.differentiate.models.base import Array
from relmark.differentiate.models.bgnbd import _arrays
from relmark.differentiate.models.transaction import TransactionModel


class ModifiedBetaGeo(TransactionModel):
    name = "mbgnbd"
    param_names = ("r", "alpha", "a", "b")
    start = (1.0, 1.0, 1.0, 1.0)

    def loglik(self, params: Array, data: tuple[Array, ...]) -> tuple[Array, Array]:
        r, alpha, a, b = params
        x, tx, T = data
        a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        a2 = betaln(a, b + x + 1) - betaln(a, b)
        a3 = -(r + x) * np.log(alpha + T)
        a4 = np.log(a) - np.log(b + x) - (r + x) * np.log(alpha + tx)
        mix = np.logaddexp(a3, a4)
        w3, w4 = np.exp(a3 - mix), np.exp(a4 - mix)
        grad = np.column_stack(
            [
                digamma(r + x)
                - digamma(r)
                + np.log(alpha)
                - w3 * np.log(alpha + T)
                - w4 * np.log(alpha + tx),
                r / alpha - w3 * (r + x) / (alpha + T) - w4 * (r + x) / (alpha + tx),
                digamma(a + b) - digamma(a + b + x + 1) + w4 / a,
                digamma(a + b)
                + digamma(b + x + 1)
                - digamma(b)
                - digamma(a + b + x + 1)
                - w4 / (b + x),
            ]
        )
        return a1 + a2 + mix, grad

    def _odds_dead(self, x: Array, tx: Array, T: Array) -> Array:
        r, alpha, a, b = self.params
        return np.exp(
            np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
        )

    def probability_alive(self, frequency: Array, recency: Array, T: Array) -> Array:
        return 1.0 / (1.0 + self._odds_dead(*_arrays(frequency, recency, T)))

    def expected_purchases(
        self, t: float | Array, frequency: Array, recency: Array, T: Array
    ) -> Array:
        r, alpha, a, b = self.params
        x, tx, T_ = _arrays(frequency, recency, T)
        t = np.asarray(t, dtype=float)
        z = t / (alpha + T_ + t)
        ratio = np.exp((r + x) * (np.log(alpha + T_) - np.log(alpha + T_ + t)))
        head = (a + b + x) / (a - 1)
        body = 1.0 - ratio * hyp2f1(r + x, b + x + 1, a + b + x, z)
        return head * body / (1.0 + self._odds_dead(x, tx, T_))

    def expected_purchases_new(self, t: float | Array) -> Array:
        r, alpha, a, b = self.params
        t = np.asarray(t, dtype=float)
        ratio = (alpha / (alpha + t)) ** r
        return b / (a - 1) * (1 - ratio * hyp2f1(r, b + 1, a + b, t / (alpha + t)))
