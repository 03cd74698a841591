r"""Pareto/NBD: Poisson purchases while alive; an exponential lifetime with a gamma rate.

The likelihood (Fader & Hardie 2005, "A Note on Deriving the Pareto/NBD Model") is

.. math::
    L = \frac{\Gamma(r+x)\,\alpha^r\beta^s}{\Gamma(r)}\Big[
        (\alpha+T)^{-(r+x)}(\beta+T)^{-s}
        + s\int_{t_x}^{T}(\alpha+y)^{-(r+x)}(\beta+y)^{-(s+1)}\,dy\Big]

usually written with Gauss's hypergeometric function. relmark evaluates the integral by
panelled Gauss-Legendre quadrature (see `_quadrature`), matching the closed form to ~1e-12
(tested against ``scipy.special.hyp2f1``), without the closed form's overflow for large
frequencies. The same nodes give the exact gradient: differentiate under the integral sign.

References
----------
Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987). Counting Your Customers: Who Are
They and What Will They Do Next? Management Science 33(1), 1-24.
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005), Marketing Science 24(2): on the CDNOW
sample r = 0.553, alpha = 10.578, s = 0.606, beta = 11.669, LL = -9595.0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from relmark.differentiate.models import pnbd_limits
from relmark.differentiate.models.base import Array, Fit, rising_sums
from relmark.differentiate.models.bgnbd import _arrays
from relmark.differentiate.models.special import digamma, gammaln
from relmark.differentiate.models.transaction import TransactionModel


@dataclass(frozen=True)
class Rule:
    """Gauss-Legendre nodes and weights on [0, 1], and the largest change of the integrand's
    log per panel."""

    nodes: Array
    weights: Array
    max_change: float

    @classmethod
    def of(cls, count: int, max_change: float) -> Rule:
        nodes, weights = np.polynomial.legendre.leggauss(count)
        return cls((nodes + 1) / 2, weights / 2, max_change)


#: Accurate to ~1e-12: every result relmark reports.
EXACT = Rule.of(8, 4.0)
#: Accurate to ~1e-6 (8e-7 on CDNOW) at under half the cost: Newton's first steps, far from
#: the maximum (panels as long as the exact rule's; more panels cost more than they save).
COARSE = Rule.of(3, 4.0)


@dataclass(frozen=True)
class Panels:
    """Quadrature nodes, one row of nodes per panel; a customer row spans one or more panels.

    `rows` are the customer rows with a non-empty interval, `first` the index of each one's
    first panel, `owner` for every panel the position of its row in `rows`. Node arrays
    (panels × nodes): the log of each node's term (weight × integrand), ln(alpha+y),
    alpha+y, ln(beta+y) and beta+y.
    """

    rows: Array
    first: Array
    owner: Array
    terms: Array
    log_ay: Array
    alpha_y: Array
    log_by: Array
    beta_y: Array

    def log_sums(self) -> tuple[Array, Array]:
        """Per row: log of the sum of exp(terms) (= ln I), and each node's share of it."""
        top = np.maximum.reduceat(self.terms.max(axis=1), self.first)
        scaled = np.exp(self.terms - top[self.owner][:, None])
        sums = np.add.reduceat(scaled.sum(axis=1), self.first)
        return top + np.log(sums), scaled / sums[self.owner][:, None]

    def means(self, shares: Array, values: Array) -> Array:
        """Per row: the share-weighted mean of a node array."""
        return np.add.reduceat((shares * values).sum(axis=1), self.first)


def _panels(
    r: float,
    alpha: float,
    s: float,
    beta: float,
    x: Array,
    tx: Array,
    T: Array,
    rule: Rule = EXACT,
) -> Panels:
    """Quadrature nodes of I = integral of (alpha+y)^-(r+x) (beta+y)^-(s+1) over [t_x, T].

    The variable is w = ln(gamma + y), gamma = min(alpha, beta): the integrand's singularities
    then lie pi off the real axis and its log changes by at most (r+x+s+2) per unit of w
    (less when alpha or beta is large: `_log_slope`). Each
    row gets as many equal panels of 8 Gauss-Legendre nodes as keep that change under 4 per
    panel, which is accurate to ~1e-12 (16 nodes agree to 3e-13 on CDNOW and on heavy buyers
    with x up to 1,000). All panels of all rows are evaluated in one pass.
    """
    gamma = min(alpha, beta)
    w_a, w_b = np.log(gamma + tx), np.log(gamma + T)
    span = w_b - w_a
    rows = np.flatnonzero(span > 0)
    span, w_a = span[rows], w_a[rows]
    p = r + x[rows]
    counts = _panel_counts(_log_slope(p, alpha, s, beta, T[rows]), span, rule)
    first = np.zeros(len(rows), dtype=np.int64)
    np.cumsum(counts[:-1], out=first[1:])
    owner = np.repeat(np.arange(len(rows)), counts)
    h = (span / counts)[owner]
    start = w_a[owner] + h * (np.arange(len(owner)) - first[owner])
    w = start[:, None] + h[:, None] * rule.nodes
    e_w = np.exp(w)
    alpha_y, beta_y = e_w + (alpha - gamma), e_w + (beta - gamma)
    log_ay, log_by = np.log(alpha_y), np.log(beta_y)
    terms = np.log(h)[:, None] + np.log(rule.weights) + w
    terms -= p[owner][:, None] * log_ay + (s + 1) * log_by
    return Panels(rows, first, owner, terms, log_ay, alpha_y, log_by, beta_y)


#: Panels per row at most: only parameters far out (r + s in the thousands) reach it, where
#: it bounds the cost of a fit that is running away (it once asked for 78 million nodes).
MAX_PANELS_PER_ROW = 256
#: Panels evaluated at once: the likelihood is a sum over rows, so rows are taken in chunks
#: of about this many panels (~1 kB each), which bounds memory whatever the data.
CHUNK_PANELS = 100_000


def _log_slope(p: Array, alpha: float, s: float, beta: float, T: Array) -> Array:
    """Bound on |d/dw| of the integrand's log in w = ln(gamma+y), gamma = min(alpha, beta):
    p (gamma+y)/(alpha+y) + (s+1) (gamma+y)/(beta+y) + 1, largest at y = T. At most
    p + s + 2, and far less when alpha or beta is large (a rate or lifetime nearly the same
    for everyone), so that a fit heading for such a limit stays cheap."""
    gamma = min(alpha, beta)
    return p * (gamma + T) / (alpha + T) + (s + 1) * (gamma + T) / (beta + T) + 1


def _panel_counts(slope: Array, span: Array, rule: Rule) -> Array:
    """Panels per row: enough to keep the integrand's log change per panel under the rule's."""
    wanted = np.ceil(np.minimum(slope * span / rule.max_change, MAX_PANELS_PER_ROW))
    return np.maximum(1, wanted).astype(np.int64)


def _chunks(
    r: float, alpha: float, s: float, beta: float, x: Array, tx: Array, T: Array, rule: Rule
) -> list[Array]:
    """Row indices in groups of at most ~CHUNK_PANELS panels (one group for most data)."""
    gamma = min(alpha, beta)
    span = np.maximum(np.log(gamma + T) - np.log(gamma + tx), 0.0)
    counts = _panel_counts(_log_slope(r + x, alpha, s, beta, T), span, rule)
    if counts.sum() <= CHUNK_PANELS:
        return [np.arange(len(x))]
    group = np.cumsum(counts) // CHUNK_PANELS
    edges = np.flatnonzero(np.diff(group)) + 1
    return np.split(np.arange(len(x)), edges)


def _quadrature(
    r: float, alpha: float, s: float, beta: float, x: Array, tx: Array, T: Array
) -> dict[str, Array]:
    """log of I (see `_panels`), and the I-weighted means of ln(alpha+y), 1/(alpha+y),
    ln(beta+y), 1/(beta+y) that the gradient needs."""
    out = {
        k: np.zeros(len(x)) for k in ("mean_log_ay", "mean_inv_ay", "mean_log_by", "mean_inv_by")
    }
    out["log_integral"] = np.full(len(x), -np.inf)
    for chunk in _chunks(r, alpha, s, beta, x, tx, T, EXACT):
        panels = _panels(r, alpha, s, beta, x[chunk], tx[chunk], T[chunk])
        if len(panels.rows) == 0:
            continue
        rows = chunk[panels.rows]
        out["log_integral"][rows], shares = panels.log_sums()
        out["mean_log_ay"][rows] = panels.means(shares, panels.log_ay)
        out["mean_inv_ay"][rows] = panels.means(shares, 1.0 / panels.alpha_y)
        out["mean_log_by"][rows] = panels.means(shares, panels.log_by)
        out["mean_inv_by"][rows] = panels.means(shares, 1.0 / panels.beta_y)
    return out


def pareto_totals(
    params: Array, data: tuple[Array, ...], weights: Array, rule: Rule = EXACT
) -> tuple[float, Array, Array]:
    """Weighted log-likelihood, gradient and Hessian: sums over rows, so taken in chunks of
    rows whose quadrature panels fit in bounded memory (see `_chunk_totals`)."""
    x, tx, T, xs, index = data
    chunks = _chunks(*params, x, tx, T, rule)
    if len(chunks) == 1:
        return _chunk_totals(params, data, weights, rule)
    value, gradient, hessian = 0.0, np.zeros(4), np.zeros((4, 4))
    for rows in chunks:
        part = (x[rows], tx[rows], T[rows], xs, index[rows])
        v, g, h = _chunk_totals(params, part, weights[rows], rule)
        value, gradient, hessian = value + v, gradient + g, hessian + h
    return value, gradient, hessian


def _chunk_totals(
    params: Array, data: tuple[Array, ...], weights: Array, rule: Rule = EXACT
) -> tuple[float, Array, Array]:
    r"""Weighted log-likelihood, gradient and Hessian, for Newton's method.

    Per row ℓ = A + ln(e^u + s I) with u = -(r+x) ln(α+T) - s ln(β+T) and
    I = ∫ f(y) dy. Derivatives of ln I are moments under the density f/I: ∇ln I = E[∇ln f] and
    ∇²ln I = E[∇²ln f] + Cov(∇ln f), all from the same quadrature nodes; the mixture's
    Hessian is w∇²u + (1-w)∇²v + w(1-w)(∇u-∇v)(∇u-∇v)ᵀ with v = ln s + ln I.
    """
    r, alpha, s, beta = params
    x, tx, T, xs, index = data
    n = len(x)
    per_x = np.bincount(index, weights=weights, minlength=len(xs))
    total = float(weights.sum())
    rx = r + x
    # per row: log I and E[u] of u = (ln(α+y), (r+x)/(α+y), ln(β+y), 1/(β+y)) under f/I
    log_integral = np.full(n, -np.inf)
    mean = np.zeros((n, 4))
    panels = _panels(r, alpha, s, beta, x, tx, T, rule)
    rows = panels.rows
    if len(rows):
        log_integral[rows], shares = panels.log_sums()
        u = np.stack(
            [
                panels.log_ay,
                rx[rows][panels.owner][:, None] / panels.alpha_y,
                panels.log_by,
                1.0 / panels.beta_y,
            ],
            axis=-1,
        )
        mean[rows] = np.add.reduceat(np.einsum("pn,pnk->pk", shares, u), panels.first)
    log_at, log_bt = np.log(alpha + T), np.log(beta + T)
    inv_at, inv_bt = 1.0 / (alpha + T), 1.0 / (beta + T)
    first = -rx * log_at - s * log_bt
    mix = np.logaddexp(first, np.log(s) + log_integral)
    w1 = np.exp(first - mix)
    w2 = 1.0 - w1
    log_r, psi_r, tri_r = (v[0] for v in rising_sums(np.array([r]), xs[None, :]))
    value = per_x @ log_r + total * (r * np.log(alpha) + s * np.log(beta)) + weights @ mix
    grad_first = np.column_stack([-log_at, -rx * inv_at, -log_bt, -s * inv_bt])
    grad_integral = np.column_stack(
        [-mean[:, 0], -mean[:, 1], 1.0 / s - mean[:, 2], -(s + 1) * mean[:, 3]]
    )
    ww1, ww2 = weights * w1, weights * w2
    gradient = ww1 @ grad_first + ww2 @ grad_integral
    gradient += [
        per_x @ psi_r + total * np.log(alpha),
        total * r / alpha,
        total * np.log(beta),
        total * s / beta,
    ]
    # Σ over rows of ω(1-w) E[u uᵀ]: the nodes' shares weighted by their row's ω(1-w)
    moments = -(mean * ww2[:, None]).T @ mean
    alpha_alpha = 0.0  # Σ ω(1-w) E[u₁²]/(r+x) = Σ ω(1-w) (r+x) E[1/(α+y)²]
    if len(rows):
        weighted = ww2[rows][panels.owner][:, None] * shares
        flat = u.reshape(-1, 4)
        raw = (flat * weighted.reshape(-1, 1)).T @ flat
        moments += raw
        alpha_alpha = float(((weighted * u[:, :, 1]) / panels.alpha_y).sum())
    hessian = np.zeros((4, 4))
    hessian[0, 0] = -(per_x @ tri_r)
    hessian[0, 1] = total / alpha - ww1 @ inv_at - ww2 @ (mean[:, 1] / rx)
    hessian[1, 1] = -total * r / alpha**2 + ww1 @ (rx * inv_at**2) + alpha_alpha
    hessian[2, 2] = -ww2.sum() / s**2
    hessian[2, 3] = total / beta - ww1 @ inv_bt - ww2 @ mean[:, 3]
    # E[∇²ln f]_ββ = (s+1) E[1/(β+y)²]: the raw moment of u₃
    hessian[3, 3] = -total * s / beta**2 + ww1 @ (s * inv_bt**2)
    if len(rows):
        hessian[3, 3] += (s + 1) * raw[3, 3]
    hessian[1, 0], hessian[3, 2] = hessian[0, 1], hessian[2, 3]
    # Cov(∇ln f) summed over rows with weights ω(1-w): raw moments minus the means' part;
    # ∇ln f = -(u₀, u₁, u₂, (s+1)u₃)
    sign = np.array([1.0, 1.0, 1.0, s + 1])
    hessian += moments * np.outer(sign, sign)
    difference = grad_first - grad_integral
    hessian += (difference * (ww1 * w2)[:, None]).T @ difference
    return float(value), gradient, hessian


class ParetoNBD(TransactionModel):
    name = "pnbd"
    param_names = ("r", "alpha", "s", "beta")
    start = (1.0, 1.0, 1.0, 1.0)
    time_params = ("alpha", "beta")

    def fit_limits(
        self, rows: tuple[Array, ...], counts: Array, started: float, error: Exception
    ) -> Fit:
        """The maximum over the closed parameter space (no drop-out, the same drop-out
        rate for everyone, a Poisson rate): see `pnbd_limits`."""
        return pnbd_limits.fit_at_limits(self.name, rows, counts, started=started)

    def _parts(self, params: Array, x: Array, tx: Array, T: Array) -> dict[str, Array]:
        r, alpha, s, beta = params
        parts = _quadrature(r, alpha, s, beta, x, tx, T)
        first = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        mix = np.logaddexp(first, np.log(s) + parts["log_integral"])
        return {**parts, "mix": mix, "alive": np.exp(first - mix)}

    def loglik(self, params: Array, data: tuple[Array, ...]) -> tuple[Array, Array]:
        r, alpha, s, beta = params
        x, tx, T, xs, index = data
        p = self._parts(params, x, tx, T)
        w1 = p["alive"]
        w2 = 1.0 - w1
        ll = (gammaln(r + xs) - gammaln(r))[index] + r * np.log(alpha) + s * np.log(beta) + p["mix"]
        grad = np.column_stack(
            [
                (digamma(r + xs) - digamma(r))[index]
                + np.log(alpha)
                - w1 * np.log(alpha + T)
                - w2 * p["mean_log_ay"],
                r / alpha - w1 * (r + x) / (alpha + T) - w2 * (r + x) * p["mean_inv_ay"],
                np.log(beta) - w1 * np.log(beta + T) + w2 * (1.0 / s - p["mean_log_by"]),
                s / beta - w1 * s / (beta + T) - w2 * (s + 1) * p["mean_inv_by"],
            ]
        )
        return ll, grad

    def starting_point(self, rows: tuple[Array, ...], weights: Array) -> Array:
        """On the data's own time scale: alpha = 1 / mean purchase rate, beta = mean age.

        From (1, 1, 1, 1) Newton needs nine steps on CDNOW in weeks and eleven in days; from
        here five in either.
        """
        x, _, T = rows
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = float(weights @ (x / T)) / float(weights.sum())
        age = float(weights @ T) / float(weights.sum())
        if not (rate > 0 and np.isfinite(rate) and age > 0):
            return super().starting_point(rows, weights)
        return np.array([1.0, 1.0 / rate, 1.0, age])

    def loglik_totals(
        self, params: Array, data: tuple[Array, ...], weights: Array
    ) -> tuple[float, Array, Array]:
        return pareto_totals(params, data, weights)

    def coarse_totals(
        self, params: Array, data: tuple[Array, ...], weights: Array
    ) -> tuple[float, Array, Array]:
        return pareto_totals(params, data, weights, COARSE)

    def probability_alive(self, frequency: Array, recency: Array, T: Array) -> Array:
        if pnbd_limits.at_limit(self.params):
            return pnbd_limits.probability_alive(self.params, *_arrays(frequency, recency, T))
        return self._parts(self.params, *_arrays(frequency, recency, T))["alive"]

    def expected_purchases(
        self, t: float | Array, frequency: Array, recency: Array, T: Array
    ) -> Array:
        r, alpha, s, beta = self.params
        x, tx, T_ = _arrays(frequency, recency, T)
        if pnbd_limits.at_limit(self.params):
            given = pnbd_limits.expected_given_alive(self.params, x, T_, np.asarray(t, float))
            return given * self.probability_alive(x, tx, T_)
        log_q = np.log(beta + T_) - np.log(beta + T_ + np.asarray(t, dtype=float))
        rate = (r + x) / (alpha + T_) * (beta + T_)
        return rate * _horizon(s, log_q) * self.probability_alive(x, tx, T_)

    def expected_purchases_curve(
        self, times: Array, frequency: Array, recency: Array, T: Array
    ) -> Array:
        r, alpha, s, beta = self.params
        x, tx, T_ = _arrays(frequency, recency, T)
        if pnbd_limits.at_limit(self.params):
            return super().expected_purchases_curve(times, x, tx, T_)
        t = np.asarray(times, dtype=float)[None, :]
        log_q = np.log(beta + T_)[:, None] - np.log(beta + T_[:, None] + t)
        rate = (r + x) / (alpha + T_) * (beta + T_) * self.probability_alive(x, tx, T_)
        return rate[:, None] * _horizon(s, log_q)

    def expected_purchases_new(self, t: float | Array) -> Array:
        r, alpha, s, beta = self.params
        t = np.asarray(t, dtype=float)
        if pnbd_limits.at_limit(self.params):
            zero = np.zeros_like(t)
            return pnbd_limits.expected_given_alive(self.params, zero, zero, t)
        log_q = np.log(beta) - np.log(beta + t)
        return r * beta / alpha * _horizon(s, log_q)


def _horizon(s: float, log_q: Array) -> Array:
    """(1 - q^(s-1)) / (s-1) for q = (beta+T)/(beta+T+t): expected lifetime share of the
    horizon; tends to -ln q as s -> 1."""
    if abs(s - 1.0) < 1e-9:
        return -log_q
    return -np.expm1((s - 1) * log_q) / (s - 1)
