"""Fit a value model on a transaction log, with an optional holdout check: the analyst's
workflow behind `relmark clv fit`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import polars as pl

from relmark.differentiate.models import TRANSACTION_MODELS, GammaGamma
from relmark.differentiate.summary import (
    TimeUnit,
    as_polars,
    calibration_and_holdout,
    rfm_summary,
)
from relmark.errors import InvalidInput

MODELS = (*TRANSACTION_MODELS, "gg")


def fit_transactions(
    transactions: pl.DataFrame,
    *,
    model: str,
    calibration_end: datetime,
    holdout_end: datetime | None = None,
    time_unit: TimeUnit = "week",
) -> dict[str, Any]:
    """Fit `model` on purchases up to `calibration_end`; compare with the holdout if given.

    `transactions` is a Polars or pandas frame of customer_id, timestamp and amount."""
    transactions = as_polars(transactions)
    if model not in MODELS:
        raise InvalidInput.single("--model", f"{model!r} is not one of {', '.join(MODELS)}")
    if holdout_end is not None and holdout_end <= calibration_end:
        raise InvalidInput.single("--holdout-end", "must be after --calibration-end")
    if holdout_end is not None:
        summary = calibration_and_holdout(
            transactions,
            calibration_end=calibration_end,
            holdout_end=holdout_end,
            time_unit=time_unit,
            extras=False,
        )
    else:
        summary = rfm_summary(
            transactions.lazy().filter(pl.col("timestamp") <= calibration_end),
            as_of=calibration_end,
            time_unit=time_unit,
            extras=False,
        )
    if summary.height == 0:
        raise InvalidInput.single("--calibration-end", "no purchases up to the calibration end")
    x = summary["frequency"].to_numpy().astype(float)
    if model == "gg":
        spend = GammaGamma()
        fit = spend.fit(x, summary["monetary_value"].to_numpy())
        result = _result(fit)
        if holdout_end is not None:
            result["holdout"] = _spend_holdout(spend, summary)
        return result
    purchases = TRANSACTION_MODELS[model]()
    tx, T = summary["recency"].to_numpy(), summary["T"].to_numpy()
    fit = purchases.fit(x, tx, T)
    result = _result(fit)
    if holdout_end is not None:
        duration = float(summary["duration_holdout"][0])
        predicted = purchases.expected_purchases(duration, x, tx, T)
        actual = summary["frequency_holdout"].to_numpy()
        result["holdout"] = {
            "duration": duration,
            "predicted_repeat_transactions": float(predicted.sum()),
            "actual_repeat_transactions": int(actual.sum()),
            "mae_per_customer": float(np.abs(predicted - actual).mean()),
        }
    return result


def _result(fit: Any) -> dict[str, Any]:
    """The documented JSON: `note` says when the answer is a limit of the model or customers
    were left out; `excluded_customers` counts the latter (Gamma-Gamma: €0 repeat spend)."""
    return {
        "model": fit.model,
        "params": fit.params,
        "log_likelihood": fit.log_likelihood,
        "n_customers": fit.n_customers,
        "excluded_customers": fit.excluded,
        "note": fit.note,
        "fit_seconds": round(fit.fit_seconds, 6),
    }


def _spend_holdout(spend: GammaGamma, summary: pl.DataFrame) -> dict[str, Any]:
    buyers = summary.filter(pl.col("frequency_holdout") > 0)
    expected = spend.expected_spend(
        buyers["frequency"].to_numpy(), buyers["monetary_value"].to_numpy()
    )
    actual = buyers["monetary_holdout"].to_numpy()
    return {
        "customers": buyers.height,
        "predicted_mean_spend": float(expected.mean()),
        "actual_mean_spend": float(actual.mean()),
        "mae_per_customer": float(np.abs(expected - actual).mean()),
    }
