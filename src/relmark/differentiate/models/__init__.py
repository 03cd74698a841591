"""Buy-till-you-die and spend models, fitted by maximum likelihood with analytic gradients."""

from relmark.differentiate.models.base import ConvergenceError, Fit
from relmark.differentiate.models.bgnbd import BetaGeo
from relmark.differentiate.models.gamma_gamma import GammaGamma
from relmark.differentiate.models.mbgnbd import ModifiedBetaGeo
from relmark.differentiate.models.pnbd import ParetoNBD

TRANSACTION_MODELS = {"bgnbd": BetaGeo, "mbgnbd": ModifiedBetaGeo, "pnbd": ParetoNBD}

__all__ = [
    "TRANSACTION_MODELS",
    "BetaGeo",
    "ConvergenceError",
    "Fit",
    "GammaGamma",
    "ModifiedBetaGeo",
    "ParetoNBD",
]
