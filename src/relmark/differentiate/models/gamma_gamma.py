r"""Gamma-Gamma: each customer's transaction values are gamma with a customer-level mean.

For a customer with x repeat transactions of mean value m:

.. math::
    \ell = \ln\Gamma(px+q) - \ln\Gamma(px) - \ln\Gamma(q) + q\ln\gamma
         + (px-1)\ln m + px\ln x - (px+q)\ln(\gamma + m x)

Fitted on customers with at least one repeat purchase and a positive mean repeat spend
(a €0 repeat purchase happens: such customers are left out, counted on the fit, and valued at
the population mean); assumes spend is independent of the purchase process. Expected spend
is a weighted mean of the population mean and the customer's own mean:
:math:`E[M] = p(\gamma + m x) / (px + q - 1)`.

References
----------
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: Using Iso-Value Curves for
Customer Base Analysis. Journal of Marketing Research 42(4), 415-430; Fader & Hardie (2013),
"The Gamma-Gamma Model of Monetary Value". On the 946 CDNOW customers with repeat purchases:
p = 6.25, q = 3.74, gamma = 15.44.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from relmark.differentiate.models.base import (
    Array,
    ConvergenceError,
    Fit,
    fit_unique_rows,
    unique_rows,
)
from relmark.differentiate.models.blas import one_thread
from relmark.differentiate.models.gamma_gamma_limit import fit_alike_spend
from relmark.differentiate.models.special import digamma, gammaln, zeta
from relmark.errors import InvalidInput, RelmarkError


class GammaGamma:
    name = "gg"
    param_names = ("p", "q", "gamma")

    def __init__(self, fit: Fit | None = None) -> None:
        self.fit_ = fit

    @classmethod
    def with_params(cls, p: float, q: float, gamma: float) -> GammaGamma:
        return cls(Fit(cls.name, {"p": p, "q": q, "gamma": gamma}, float("nan"), 0, 0.0))

    @property
    def params(self) -> Array:
        if self.fit_ is None:
            raise RelmarkError("the gamma-gamma model is not fitted yet")
        return self.fit_.values()

    def fit(self, frequency: Array, monetary_value: Array) -> Fit:
        x = np.asarray(frequency, dtype=float)
        m = np.asarray(monetary_value, dtype=float)
        if np.any(np.isnan(m)):
            raise InvalidInput.single("summary", "monetary_value is missing for some customers")
        repeat = x > 0
        keep = repeat & (m > 0)
        if keep.sum() < 2:
            raise InvalidInput.single(
                "summary",
                "gamma-gamma needs at least 2 customers with repeat purchases of positive "
                f"value (frequency > 0, monetary_value > 0); there are {int(keep.sum())}",
            )
        rows, weights = unique_rows(x[keep], m[keep])
        return self._fit_rows(rows, weights, excluded=int(repeat.sum() - keep.sum()))

    def fit_distinct(self, frequency: Array, monetary_value: Array, counts: Array) -> Fit:
        """Fit from distinct (x, m) rows of repeat customers and how many share each."""
        x, m, counts = (np.asarray(a, dtype=float) for a in (frequency, monetary_value, counts))
        if np.any(x <= 0) or np.any(counts <= 0):
            raise InvalidInput.single("summary", "distinct rows need frequency > 0 and counts > 0")
        keep = m > 0
        if counts[keep].sum() < 2:
            raise InvalidInput.single(
                "summary",
                "gamma-gamma needs at least 2 customers with repeat purchases of positive value",
            )
        excluded = int(counts[~keep].sum())
        return self._fit_rows((x[keep], m[keep]), counts[keep], excluded=excluded)

    def _fit_rows(self, rows: tuple[Array, Array], counts: Array, excluded: int = 0) -> Fit:
        m = rows[1]
        with one_thread():
            try:
                self.fit_ = self._fit_unique(rows, counts, m)
            except ConvergenceError as exc:
                # q → ∞: customers' means do not differ, an answer the data may well give
                try:
                    self.fit_ = fit_alike_spend(rows, counts)
                except ConvergenceError:
                    raise exc from None
        if excluded:
            left_out = (
                f"{excluded} customers with repeat purchases but no positive mean repeat "
                "spend were left out of the fit and are valued at the population mean spend"
            )
            note = f"{self.fit_.note}; {left_out}" if self.fit_.note else left_out
            self.fit_ = replace(self.fit_, excluded=excluded, note=note)
        return self.fit_

    def _fit_unique(self, rows: tuple[Array, Array], counts: Array, m: Array) -> Fit:
        return fit_unique_rows(
            self.name,
            self.param_names,
            self.loglik,
            rows,
            counts,
            # in the data's own money unit: the implied mean spend p·gamma/(q-1) is the mean
            # (five to eight Newton steps whether amounts are in dollars or cents)
            np.array([2.0, 3.0, float(counts @ m) / float(counts.sum())]),
            n_customers=int(counts.sum()),
            prepare=_prepared,
            totals=self.loglik_totals,
        )

    @staticmethod
    def loglik(params: Array, data: tuple[Array, ...]) -> tuple[Array, Array]:
        """`data` is (x, m) or, as the fit prepares it, (x, m, ln x, ln m, distinct x, index)."""
        p, q, g = params
        if len(data) == 2:
            data = _prepared(*data)
        x, m, log_x, log_m, xs, index = data
        pxs = p * xs
        log_gamma = (gammaln(pxs + q) - gammaln(pxs))[index] - gammaln(q)
        d_pxq = digamma(pxs + q)[index]
        d_px = digamma(pxs)[index]
        px = p * x
        log_gmx = np.log(g + m * x)
        ll = log_gamma + q * np.log(g) + (px - 1) * log_m + px * log_x - (px + q) * log_gmx
        grad = np.column_stack(
            [
                x * (d_pxq - d_px + log_m + log_x - log_gmx),
                d_pxq - digamma(q) + np.log(g) - log_gmx,
                q / g - (px + q) / (g + m * x),
            ]
        )
        return ll, grad

    @staticmethod
    def loglik_totals(
        params: Array, data: tuple[Array, ...], weights: Array
    ) -> tuple[float, Array, Array]:
        """Weighted log-likelihood, gradient and Hessian, for Newton's method.

        The gamma-function terms depend on the frequency alone: evaluated once per distinct
        frequency (one call per special function) and weighted by how many rows share it.
        """
        p, q, g = params
        x, m, log_x, log_m, xs, index = data
        per_x = np.bincount(index, weights=weights, minlength=len(xs))
        total = float(weights.sum())
        d = len(xs)
        arguments = np.concatenate([p * xs + q, p * xs, [q]])
        log_gamma, psi, trigamma = gammaln(arguments), digamma(arguments), zeta(2, arguments)
        px = p * x
        g_mx = g + m * x
        log_gmx = np.log(g_mx)
        inv_gmx = 1.0 / g_mx
        pxq_inv = (px + q) * inv_gmx
        value = (
            per_x @ (log_gamma[:d] - log_gamma[d : 2 * d])
            + total * (q * np.log(g) - log_gamma[-1])
            + weights @ ((px - 1) * log_m + px * log_x - (px + q) * log_gmx)
        )
        wx = weights * x
        gradient = np.array(
            [
                per_x @ (xs * (psi[:d] - psi[d : 2 * d])) + wx @ (log_m + log_x - log_gmx),
                per_x @ psi[:d] + total * (np.log(g) - psi[-1]) - weights @ log_gmx,
                total * q / g - weights @ pxq_inv,
            ]
        )
        p_q = per_x @ (xs * trigamma[:d])
        p_g = -(wx @ inv_gmx)
        q_g = total / g - weights @ inv_gmx
        hessian = np.array(
            [
                [per_x @ (xs * xs * (trigamma[:d] - trigamma[d : 2 * d])), p_q, p_g],
                [p_q, per_x @ trigamma[:d] - total * trigamma[-1], q_g],
                [p_g, q_g, -total * q / g**2 + weights @ (pxq_inv * inv_gmx)],
            ]
        )
        return float(value), gradient, hessian

    def expected_spend(self, frequency: Array, monetary_value: Array) -> Array:
        """Expected mean transaction value; the population mean p·gamma/(q-1) for customers
        without repeats or without a positive mean repeat spend (left out of the fit)."""
        p, q, g = self.params
        x = np.asarray(frequency, dtype=float)
        m = np.asarray(monetary_value, dtype=float)
        own = (x > 0) & (m > 0)
        return np.where(own, p * (g + m * x) / (p * x + q - 1), p * g / (q - 1))


def _prepared(x: Array, m: Array) -> tuple[Array, ...]:
    """(x, m, ln x, ln m, distinct x, index): logs and distinct frequencies computed once."""
    distinct, index = np.unique(x, return_inverse=True)
    return x, m, np.log(x), np.log(m), distinct, index
