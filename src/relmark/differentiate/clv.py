r"""Customer lifetime value: expected purchases × expected spend × margin, discounted monthly.

.. math::
    \mathrm{CLV} = \sum_{i=1}^{H} \frac{m\,\bar{s}\,\big(E[Y(i\tau)] - E[Y((i-1)\tau)]\big)}
                                     {(1+d)^{i/12}}

with `H` months of horizon, :math:`\tau` periods per month, :math:`\bar s` the Gamma-Gamma
expected spend, `m` the margin and `d` the annual discount rate.
Intervals come from parameter uncertainty: parameters are drawn from the maximum-likelihood
estimate's asymptotic normal distribution (in log space) and the CLV recomputed per draw.
Predictions are computed once per distinct (x, t_x, T, m) row.

References
----------
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: Using Iso-Value Curves for
Customer Base Analysis. Journal of Marketing Research 42(4), 415-430.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from relmark.differentiate.models.base import Array, Fit
from relmark.differentiate.models.gamma_gamma import GammaGamma
from relmark.differentiate.models.transaction import TransactionModel

PERIODS_PER_MONTH = {"week": 365.25 / 12 / 7, "day": 365.25 / 12}


@dataclass(frozen=True)
class ValueSettings:
    horizon_months: int = 12
    discount_rate: float = 0.10
    margin: float = 1.0
    time_unit: str = "week"


def _months(settings: ValueSettings) -> tuple[Array, Array]:
    """Month ends in model time units, and each month's discount factor."""
    months = np.arange(1, settings.horizon_months + 1)
    return (
        months * PERIODS_PER_MONTH[settings.time_unit],
        (1 + settings.discount_rate) ** (-months / 12),
    )


def _clv(
    purchases: TransactionModel,
    spend: GammaGamma,
    x: Array,
    tx: Array,
    T: Array,
    m: Array,
    settings: ValueSettings,
    curve: Array | None = None,
) -> Array:
    times, discount = _months(settings)
    if curve is None:
        curve = purchases.expected_purchases_curve(times, x, tx, T)
    per_month = np.diff(curve, axis=1, prepend=0.0)
    return spend.expected_spend(x, m) * settings.margin * (per_month @ discount)


def score_customers(
    purchases: TransactionModel,
    spend: GammaGamma | None,
    summary: pl.DataFrame,
    settings: ValueSettings,
    *,
    draws: int = 0,
    seed: int = 0,
) -> pl.DataFrame:
    """P(alive), expected purchases and spend over the horizon, CLV (and 10th/90th percentile
    with `draws` > 0) for every row of `summary` (frequency, recency, T, monetary_value).

    Without a spend model (`spend` None: Gamma-Gamma could not be fitted) expected spend and
    CLV are null: P(alive) and expected purchases need only the purchase model.
    """
    x, tx, T, m = (
        summary[c].to_numpy().astype(float) for c in ("frequency", "recency", "T", "monetary_value")
    )
    times, _ = _months(settings)
    curve = purchases.expected_purchases_curve(times, x, tx, T)
    scores = summary.with_columns(
        pl.Series("p_alive", purchases.probability_alive(x, tx, T)),
        pl.Series("expected_purchases", curve[:, -1]),
    )
    if spend is None:
        return scores.with_columns(
            pl.lit(None, pl.Float64).alias("expected_spend"), pl.lit(None, pl.Float64).alias("clv")
        )
    scores = scores.with_columns(
        pl.Series("expected_spend", spend.expected_spend(x, m)),
        pl.Series("clv", _clv(purchases, spend, x, tx, T, m, settings, curve)),
    )
    # An answer at a limit of the parameter space has no covariance: its interval is unknown
    # (left empty), not the point estimate twice.
    if draws and _has_covariance(purchases.fit_) and _has_covariance(spend.fit_):
        low, high = _clv_interval(purchases, spend, (x, tx, T, m), settings, draws, seed)
        scores = scores.with_columns(pl.Series("clv_p10", low), pl.Series("clv_p90", high))
    return scores


def _clv_interval(
    purchases: TransactionModel,
    spend: GammaGamma,
    data: tuple[Array, ...],
    settings: ValueSettings,
    draws: int,
    seed: int,
) -> tuple[Array, Array]:
    rng = np.random.default_rng(seed)
    p_draws = _draw(purchases.fit_, draws, rng)
    s_draws = _draw(spend.fit_, draws, rng)
    values = np.empty((draws, len(data[0])))
    for i in range(draws):
        model = type(purchases).with_params(**p_draws[i])
        gg = GammaGamma.with_params(**s_draws[i])
        values[i] = _clv(model, gg, *data, settings)
    return np.percentile(values, 10, axis=0), np.percentile(values, 90, axis=0)


def _has_covariance(fit: Fit | None) -> bool:
    return fit is not None and fit.covariance is not None


def _draw(fit: Fit | None, draws: int, rng: np.random.Generator) -> list[dict[str, float]]:
    """Parameter draws from the fit's asymptotic distribution (the estimate if it has none)."""
    assert fit is not None
    if fit.covariance is None:  # e.g. an answer at a limit (a = 0: nobody drops out)
        return [dict(fit.params) for _ in range(draws)]
    names = list(fit.params)
    centre = np.log(fit.values())
    sample = np.exp(rng.multivariate_normal(centre, fit.covariance, size=draws))
    return [dict(zip(names, row.tolist(), strict=True)) for row in sample]
