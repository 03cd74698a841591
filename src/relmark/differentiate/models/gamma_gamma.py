r"""Gamma-Gamma: each customer's transaction values are gamma with a customer-level mean.

For a customer with x repeat transactions of mean value m:

.. math::
    \ell = \ln\Gamma(px+q) - \ln\Gamma(px) - \ln\Gamma(q) + q\ln\gamma
         + (px-1)\ln m + px\ln x - (px+q)\ln(\gamma + m x)

Fitted on customers with at least one repeat purchase; assumes spend is independent of the
purchase process. Expected spend is a weighted mean of the population mean and the
customer's own mean: :math:`E[M] = p(\gamma + m x) / (px + q - 1)`.

References
----------
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: Using Iso-Value Curves for
Customer Base Analysis. Journal of Marketing Research 42(4), 415-430; Fader & Hardie (2013),
"The Gamma-Gamma Model of Monetary Value". On the 946 CDNOW customers with repeat purchases:
p = 6.25, q = 3.74, gamma = 15.44.
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, gammaln

from relmark.differentiate.models.base import Array, Fit, fit_unique_rows, unique_rows
from relmark.errors import InvalidInput, RelmarkError


class GammaGamma:
    name = "gg"
    param_names = ("p", "q", "gamma")
    start = (1.0, 1.0, 1.0)

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
        keep = x > 0
        if keep.sum() < 2:
            raise InvalidInput.single(
                "summary", "gamma-gamma needs customers with repeat purchases (frequency > 0)"
            )
        if np.any(m[keep] <= 0):
            raise InvalidInput.single(
                "summary", "monetary_value must be positive for customers with repeat purchases"
            )
        rows, weights = unique_rows(x[keep], m[keep])
        self.fit_ = fit_unique_rows(
            self.name,
            self.param_names,
            self.loglik,
            rows,
            weights,
            np.array(self.start),
            n_customers=int(keep.sum()),
            prepare=_prepared,
        )
        return self.fit_

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

    def expected_spend(self, frequency: Array, monetary_value: Array) -> Array:
        """Expected mean transaction value; the population mean for customers without repeats."""
        p, q, g = self.params
        x = np.asarray(frequency, dtype=float)
        m = np.asarray(monetary_value, dtype=float)
        return p * (g + m * x) / (p * x + q - 1)


def _prepared(x: Array, m: Array) -> tuple[Array, ...]:
    """(x, m, ln x, ln m, distinct x, index): logs and distinct frequencies computed once."""
    distinct, index = np.unique(x, return_inverse=True)
    return x, m, np.log(x), np.log(m), distinct, index
