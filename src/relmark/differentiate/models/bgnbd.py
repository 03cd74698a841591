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

from relmark.differentiate.models import limits
from relmark.differentiate.models.base import Array, Fit, distinct_index, per_distinct, rising_sums
from relmark.differentiate.models.special import betaln, digamma, gammaln, hyp2f1
from relmark.differentiate.models.transaction import TransactionModel


class BetaGeo(TransactionModel):
    name = "bgnbd"
    param_names = ("r", "alpha", "a", "b")
    start = (1.0, 1.0, 1.0, 1.0)
    #: MBG/NBD: a drop-out is possible at the first purchase too.
    modified = False

    def fit_limits(
        self, rows: tuple[Array, ...], counts: Array, started: float, error: Exception
    ) -> Fit:
        """The maximum over the closed parameter space (homogeneous or no drop-out, a
        Poisson rate): see `limits`."""
        return limits.fit_at_limits(
            self.name, rows, counts, modified=self.modified, started=started
        )

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

    def loglik_totals(
        self, params: Array, data: tuple[Array, ...], weights: Array
    ) -> tuple[float, Array, Array]:
        return beta_geo_totals(params, data, weights, modified=False)

    def _odds_dead(self, x: Array, tx: Array, T: Array) -> Array:
        if limits.at_limit(self.params):
            return limits.odds_dead(self.params, x, tx, T, modified=self.modified)
        return self._odds_dead_interior(x, tx, T)

    def _odds_dead_interior(self, x: Array, tx: Array, T: Array) -> Array:
        r, alpha, a, b = self.params
        safe = np.where(x > 0, b + x - 1, 1.0)
        log_odds = np.log(a) - np.log(safe) + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
        return np.where(x > 0, np.exp(log_odds), 0.0)

    def probability_alive(self, frequency: Array, recency: Array, T: Array) -> Array:
        return 1.0 / (1.0 + self._odds_dead(*_arrays(frequency, recency, T)))

    def _body(self, x: Array, T: Array, t: Array) -> Array:
        """The part of E[Y(t)] that depends on (x, T, t) only: E[Y(t) | alive]."""
        if limits.at_limit(self.params):
            return limits.expected_given_alive(self.params, x, T, t, modified=self.modified)
        return self._body_interior(x, T, t)

    def _body_interior(self, x: Array, T: Array, t: Array) -> Array:
        """`_body` by the closed form with the hypergeometric term."""
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
        if limits.at_limit(self.params):
            zero = np.zeros_like(np.asarray(t, dtype=float))
            return limits.expected_given_alive(
                self.params, zero, zero, t, modified=self.modified, new=True
            )
        return self._new_interior(t)

    def _new_interior(self, t: float | Array) -> Array:
        r, alpha, a, b = self.params
        t = np.asarray(t, dtype=float)
        ratio = (alpha / (alpha + t)) ** r
        return (a + b - 1) / (a - 1) * (1 - ratio * hyp2f1(r, b, a + b - 1, t / (alpha + t)))


def beta_geo_totals(
    params: Array, data: tuple[Array, ...], weights: Array, *, modified: bool
) -> tuple[float, Array, Array]:
    r"""Weighted log-likelihood, gradient and Hessian of BG/NBD (or MBG/NBD, `modified`).

    Per row ℓ = A(r, α) + B(a, b) + ln(e^u + e^v) with u = -(r+x) ln(α+T) and
    v = ln a - ln(b+x-1) - (r+x) ln(α+t_x) (MBG/NBD: b+x, and every row has v). With
    w = e^u / (e^u + e^v) the mixture's Hessian is w∇²u + (1-w)∇²v + w(1-w)(∇u-∇v)(∇u-∇v)ᵀ.
    Terms that depend on the frequency alone are summed per distinct frequency.
    """
    r, alpha, a, b = params
    x, tx, T, xs, index = data
    shift = 1.0 if modified else 0.0
    per_x = np.bincount(index, weights=weights, minlength=len(xs))
    total = float(weights.sum())
    # A = lnΓ(r+x) - lnΓ(r) + r ln α; B = lnΓ(b+x') - lnΓ(b) - [lnΓ(a+b+x') - lnΓ(a+b)]
    shifted = xs + shift
    logs, psis, tris = rising_sums(np.array([r, b, a + b]), np.stack([xs, shifted, shifted]))
    (log_r, log_b, log_ab), (psi_r, psi_b, psi_ab), (tri_r, tri_b, tri_ab) = logs, psis, tris
    rx = r + x
    log_t, log_tx = np.log(alpha + T), np.log(alpha + tx)
    inv_t, inv_tx = 1.0 / (alpha + T), 1.0 / (alpha + tx)
    u = -rx * log_t
    if modified:
        b_x = b + x
        v = np.log(a) - np.log(b_x) - rx * log_tx
    else:
        repeat = x > 0
        b_x = np.where(repeat, b + x - 1, 1.0)
        v = np.where(repeat, np.log(a) - np.log(b_x) - rx * log_tx, -np.inf)
    mix = np.logaddexp(u, v)
    w_u = np.exp(u - mix)
    w_v = 1.0 - w_u
    wv = weights * w_v
    wu_t, wv_tx = weights * w_u * inv_t, wv * inv_tx
    inv_bx = 1.0 / b_x
    value = per_x @ (log_r + log_b - log_ab) + total * r * np.log(alpha) + weights @ mix
    gradient = np.array(
        [
            per_x @ psi_r + total * np.log(alpha) - weights @ (w_u * log_t) - wv @ log_tx,
            total * r / alpha - rx @ (wu_t + wv_tx),
            wv.sum() / a - per_x @ psi_ab,
            per_x @ (psi_b - psi_ab) - wv @ inv_bx,
        ]
    )
    shared = per_x @ tri_ab
    r_alpha = total / alpha - (wu_t.sum() + wv_tx.sum())
    a_a = shared - wv.sum() / a**2
    hessian = np.array(
        [
            [-(per_x @ tri_r), r_alpha, 0.0, 0.0],
            [r_alpha, -total * r / alpha**2 + rx @ (wu_t * inv_t + wv_tx * inv_tx), 0.0, 0.0],
            [0.0, 0.0, a_a, shared],
            [0.0, 0.0, shared, shared - per_x @ tri_b + wv @ (inv_bx * inv_bx)],
        ]
    )
    # w(1-w)(∇u-∇v)(∇u-∇v)ᵀ with ∇u-∇v = (ln(α+t_x) - ln(α+T), (r+x)(1/(α+t_x) - 1/(α+T)),
    # -1/a, 1/(b+x-1)): ten weighted dot products, no n × 4 temporaries
    c = wv * w_u
    d0, d1, d2, d3 = log_tx - log_t, rx * (inv_tx - inv_t), -1.0 / a, inv_bx
    c0, c1, c3 = c * d0, c * d1, c * d3
    s0, s1, s3 = c0.sum(), c1.sum(), c3.sum()
    hessian += np.array(
        [
            [c0 @ d0, c0 @ d1, d2 * s0, c0 @ d3],
            [c0 @ d1, c1 @ d1, d2 * s1, c1 @ d3],
            [d2 * s0, d2 * s1, d2 * d2 * c.sum(), d2 * s3],
            [c0 @ d3, c1 @ d3, d2 * s3, c3 @ d3],
        ]
    )
    return float(value), gradient, hessian


def _arrays(*columns: Array | float) -> tuple[Array, ...]:
    return tuple(np.asarray(c, dtype=float) for c in columns)
