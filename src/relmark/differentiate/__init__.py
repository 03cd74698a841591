"""Differentiate: a value for every customer from what they bought, when and for how much.

Pure computations: frames and arrays in, frames and arrays out; no session inside.

The library's entry points are importable from here (`from relmark.differentiate import
rfm_summary, BetaGeo`), each loaded on first use: the models need SciPy, which a command
that only summarises or segments should not pay for.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from relmark.differentiate.analysis import fit_transactions
    from relmark.differentiate.clv import ValueSettings, score_customers
    from relmark.differentiate.models import BetaGeo, GammaGamma, ModifiedBetaGeo, ParetoNBD
    from relmark.differentiate.profitability import CostModel, customer_profit, whale_curve
    from relmark.differentiate.rfm import rfm_scores
    from relmark.differentiate.summary import calibration_and_holdout, rfm_summary

#: Public name → the module that defines it.
_SOURCES = {
    "rfm_summary": "summary",
    "calibration_and_holdout": "summary",
    "BetaGeo": "models",
    "ParetoNBD": "models",
    "ModifiedBetaGeo": "models",
    "GammaGamma": "models",
    "score_customers": "clv",
    "ValueSettings": "clv",
    "rfm_scores": "rfm",
    "customer_profit": "profitability",
    "whale_curve": "profitability",
    "CostModel": "profitability",
    "fit_transactions": "analysis",
}

__all__ = [
    "BetaGeo",
    "CostModel",
    "GammaGamma",
    "ModifiedBetaGeo",
    "ParetoNBD",
    "ValueSettings",
    "calibration_and_holdout",
    "customer_profit",
    "fit_transactions",
    "rfm_scores",
    "rfm_summary",
    "score_customers",
    "whale_curve",
]


def __getattr__(name: str) -> Any:
    module = _SOURCES.get(name)
    if module is None:  # not ours: `from relmark.differentiate import distributed` goes on
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
