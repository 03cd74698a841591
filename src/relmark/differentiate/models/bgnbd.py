r"""BG/NBD: Poisson purchases while alive, drop-out with probability p after each purchase.

.. math::
    \ell = \ln\Gamma(r+x) - \ln\Gamma(r) + r\ln\alpha
         + \ln B(a, b+x) - \ln B(a, b)
         + \ln\Big[(\alpha+T)^{-(r+x)}
           + \delta_{x>0}\,\tfrac{a}{b+x-1}\,(\alpha+t_x)^{-(r+x)}\Big]

Parameters `r, alpha` (gamma heterogeneity of the purchase rate) and `a, b` (beta
heterogeneity of the drop-out probability).

References
----------
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting Your Customers" the Easy Way:
An Alternative to the Pareto/NBD Model. Marketing Science 24(2), 275-284. On the CDNOW
sample: r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, digamma, gammaln, hyp2f1

from relmark.differentiate.models.base import Array, distinct_index, per_distinct
from relmark.differentiate.models.transaction import TransactionModel


class BetaGeo(TransactionModel):
    name = "bgnbd"
    param_names = ("r", "alpha", "a", "b")
    start = (1.0, 1.0, 1.0, 1.0)

    def loglik(self, params: Array, data: tuple[Array, ...]) -> tuple[Array, Array]:
        r, alpha, a, b = params
        x, tx, T, xs, index = data
        repeat = x > 0
        a1 = (gammaln(r + xs) - gammaln(r))[index] + r * np.log(alpha)
        a2 = (betaln(a, b + xs) - betaln(a, b))[index]
        log_alpha_t = np.log(alpha + T)
        log_alpha_tx = np.log(alpha + tx)
        a3 = -(r + x) * log_alpha_t
        b_x1 = np.where(repeat, b + x - 1, 1.0)
        a4 = np.where(repeat, np.log(a) - np.log(b_x1) - (r + x) * log_alpha_tx, -np.inf)
        mix = np.logaddexp(a3, a4)
        w3 = np.exp(a3 - mix)
        w4 = 1.0 - w3
        d_ab = digamma(a + b)
        d_abx = digamma(a + b + xs)[index]
        grad = np.column_stack(
            [
                (digamma(r + xs) - digamma(r))[index]
                + np.log(alpha)
                - w3 * log_alpha_t
                - w4 * log_alpha_tx,
                r / alpha - (r + x) * (w3 / (alpha + T) + w4 / (alpha + tx)),
                d_ab - d_abx + w4 / a,
                d_ab + (digamma(b + xs) - digamma(b))[index] - d_abx - w4 / b_x1,
            ]
        )
        return a1 + a2 + mix, grad

    def _odds_dead(self, x: Array, tx: Array, T: Array) -> Array:
        r, alpha, a, b = self.params
        safe = np.where(x > 0, b + x - 1, 1.0)
        log_odds = np.log(a) - np.log(safe) + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
        return np.where(x > 0, np.exp(log_odds), 0.0)

    def probability_alive(self, frequency: Array, recency: Array, T: Array) -> Array:
        return 1.0 / (1.0 + self._odds_dead(*_arrays(frequency, recency, T)))

    def _body(self, x: Array, T: Array, t: Array) -> Array:
        """The part of E[Y(t)] that depends on (x, T, t) only (with the hypergeometric term)."""
        r, alpha, a, b = self.params
        z = t / (alpha + T + t)
        ratio = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t)))
        return (a + b + x - 1) / (a - 1) * (1.0 - ratio * hyp2f1(r + x, b + x, a + b + x - 1, z))

    def expected_purchases(
        self, t: float | Array, frequency: Array, recency: Array, T: Array
    ) -> Array:
        x, tx, T_ = _arrays(frequency, recency, T)
        # the hypergeometric part depends on (x, T, t) only: once per distinct triple
        return per_distinct(self._body, x=x, T=T_, t=t) / (1.0 + self._odds_dead(x, tx, T_))

    def expected_purchases_curve(
        self, times: Array, frequency: Array, recency: Array, T: Array
    ) -> Array:
        x, tx, T_ = _arrays(frequency, recency, T)
        keys, index = distinct_index(x=x, T=T_)
        body = self._body(
            keys["x"][:, None], keys["T"][:, None], np.asarray(times, dtype=float)[None, :]
        )
        return body[index] / (1.0 + self._odds_dead(x, tx, T_))[:, None]

    def expected_purchases_new(self, t: float | Array) -> Array:
        r, alpha, a, b = self.params
        t = np.asarray(t, dtype=float)
        ratio = (alpha / (alpha + t)) ** r
        return (a + b - 1) / (a - 1) * (1 - ratio * hyp2f1(r, b, a + b - 1, t / (alpha + t)))


def _arrays(*columns: Array | float) -> tuple[Array, ...]:
    return tuple(np.asarray(c, dtype=float) for c in columns)
