"""Which purchase model values a store: fit the candidates, compare them, say why.

Criterion (the default, without `--model`): every candidate is fitted and reported (its
log-likelihood, BIC = k·ln(n) − 2·ln L, parameters, or the reason it failed); the chosen model
is the one with the lowest BIC among the models in which a customer can drop out before their
first repeat purchase — MBG/NBD and Pareto/NBD. BG/NBD is fitted and reported too, but not
chosen by default: under it a customer who never bought again cannot have dropped out, so
every one-time buyer has P(alive) = 1 however long ago they bought, which no marketer can use.
`--model` forces one model (BG/NBD included).

When no model can be fitted, the choice carries the reason in plain words; scoring then
stores everything that needs no model and leaves P(alive), expected purchases and CLV empty.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from relmark.differentiate.models import TRANSACTION_MODELS
from relmark.differentiate.models.base import Array, Fit
from relmark.differentiate.models.transaction import TransactionModel
from relmark.errors import RelmarkError

#: Models the default may choose: a customer can drop out before a repeat purchase.
DEFAULT_CANDIDATES = ("mbgnbd", "pnbd")
#: Every model fitted and reported when none is forced, in the order shown.
REPORTED = ("bgnbd", "mbgnbd", "pnbd")
MODEL_NAMES = {"bgnbd": "BG/NBD", "mbgnbd": "MBG/NBD", "pnbd": "Pareto/NBD"}
CRITERION = (
    "lowest BIC (k·ln n − 2·ln L) among the models in which a customer can drop out before "
    "a repeat purchase (MBG/NBD, Pareto/NBD); BG/NBD is reported but only used when asked, "
    "since it gives every one-time buyer P(alive) = 1"
)
#: Below these counts the purchase models have nothing to learn drop-out from.
MIN_CUSTOMERS = 10
MIN_REPEAT_BUYERS = 3
#: What fitting may raise on hostile data; anything else is a bug and propagates.
FIT_FAILURES = (RelmarkError, ArithmeticError, ValueError, MemoryError, np.linalg.LinAlgError)
#: CPU seconds (of the fitting thread) one candidate fit may take before it counts as failed:
#: a fixed part plus a share per customer, so large stores keep their fits while one that
#: walks off to absurd parameters stops with a reason. Memory needs no such guard: the models
#: bound their own work (tests/differentiate/test_limits.py measures hostile stores), and a
#: process-wide address-space limit would also fail the other threads of a web server.
FIT_SECONDS_BASE, FIT_SECONDS_PER_CUSTOMER = 3.0, 5e-5


class FitBudgetExceeded(RelmarkError):
    """A candidate fit used more CPU time than its budget."""


@dataclass
class Candidate:
    """One model's attempt: its fit and figures, or why it failed."""

    model: str
    fit: Fit | None = None
    failure: str | None = None
    predictor: TransactionModel | None = None

    @property
    def bic(self) -> float | None:
        if self.fit is None:
            return None
        return len(self.fit.params) * math.log(self.fit.n_customers) - 2 * self.fit.log_likelihood

    def figures(self) -> dict[str, Any]:
        """What the run stores about this candidate (plain numbers, JSON-ready)."""
        if self.fit is None:
            return {"model": self.model, "fitted": False, "reason": self.failure}
        return {
            "model": self.model,
            "fitted": True,
            "log_likelihood": round(self.fit.log_likelihood, 4),
            "bic": round(self.bic or 0.0, 4),
            "params": {k: _plain(v) for k, v in self.fit.params.items()},
            "fit_seconds": round(self.fit.fit_seconds, 3),
            "note": getattr(self.fit, "note", None),
        }


@dataclass
class Choice:
    """The model that values the store (None: none could), the criterion and every figure."""

    model: TransactionModel | None
    criterion: str
    candidates: list[Candidate] = field(default_factory=list)
    reason: str | None = None

    @property
    def name(self) -> str:
        return self.model.name if self.model is not None else "none"

    def as_record(self) -> dict[str, Any]:
        return {
            "chosen": self.name,
            "criterion": self.criterion,
            "candidates": [c.figures() for c in self.candidates],
            "reason": self.reason,
        }


def choose_model(x: Array, t_x: Array, T: Array, forced: str | None = None) -> Choice:
    """Fit the candidates on (frequency, recency, T) and choose; never raises on bad data."""
    names = (forced,) if forced else REPORTED
    criterion = f"forced with --model {forced}" if forced else CRITERION
    too_little = _too_little(x, T)
    if too_little:
        failed = [Candidate(n, failure=too_little) for n in names]
        return Choice(None, criterion, failed, reason=too_little)
    candidates = [_fit(name, x, t_x, T) for name in names]
    eligible = [
        c for c in candidates if c.fit is not None and (forced or c.model in DEFAULT_CANDIDATES)
    ]
    if eligible:
        best = min(eligible, key=lambda c: c.bic if c.bic is not None else math.inf)
        return Choice(best.predictor, criterion, candidates)
    return Choice(None, criterion, candidates, reason=_none_fitted(candidates, forced, x))


def _too_little(x: Array, T: Array) -> str | None:
    repeaters = int(np.sum(x > 0))
    if len(x) < MIN_CUSTOMERS:
        return (
            f"only {len(x)} customers have bought; the purchase models need at least "
            f"{MIN_CUSTOMERS} (and {MIN_REPEAT_BUYERS} who bought again): score again when "
            "more customers have bought"
        )
    if float(np.max(T)) <= 0:
        return (
            "every purchase is on the scoring day: there is no history yet to learn from; "
            "score again later or with a later --as-of"
        )
    if repeaters < MIN_REPEAT_BUYERS:
        return (
            f"only {repeaters} of {len(x)} customers bought more than once; the purchase "
            f"models need at least {MIN_REPEAT_BUYERS} repeat buyers to learn how often "
            "customers return: score again with a longer history"
        )
    return None


def _fit(name: str, x: Array, t_x: Array, T: Array) -> Candidate:
    model = TRANSACTION_MODELS[name]()
    seconds = FIT_SECONDS_BASE + FIT_SECONDS_PER_CUSTOMER * len(x)
    checked = _with_deadline(model, time.thread_time() + seconds)
    try:
        fit = model.fit(x, t_x, T)
    except FitBudgetExceeded:
        return Candidate(
            name,
            failure=f"the fit took more than {seconds:.0f} s of computing (its parameters "
            "ran away: the data cannot identify the model)",
        )
    except FIT_FAILURES as exc:
        return Candidate(name, failure=plain_words(str(exc)))
    finally:
        for attribute in checked:  # predictions run on the plain methods again
            delattr(model, attribute)
    if not all(math.isfinite(v) for v in fit.params.values()) or not math.isfinite(
        fit.log_likelihood
    ):
        return Candidate(name, failure="the fit returned parameters that are not finite numbers")
    return Candidate(name, fit=fit, predictor=model)


def _none_fitted(candidates: list[Candidate], forced: str | None, x: Array) -> str:
    """One plain sentence; each model's own message stays with its candidate figures."""
    data = (
        f"{int(np.sum(x > 0)):,} of {len(x):,} customers bought more than once, too few or "
        "too alike for the model to tell how customers drop out"
    )
    if forced:
        return (
            f"{MODEL_NAMES[forced]} could not be fitted ({data}); try `relmark score` without "
            "--model, a longer history or --time-unit day"
        )
    bgnbd = next((c for c in candidates if c.model == "bgnbd" and c.fit is not None), None)
    hint = (
        "; BG/NBD fits, but it gives every one-time buyer P(alive) = 1, so it is used only "
        "with --model bgnbd"
        if bgnbd
        else ""
    )
    return (
        f"no purchase model could be fitted to this store's history ({data}){hint}; "
        "try a longer history or --time-unit day"
    )


def _with_deadline(model: TransactionModel, deadline: float) -> list[str]:
    """Make every likelihood evaluation of this model instance check the thread's CPU clock
    first (other threads of a busy server do not count against it): the
    optimiser evaluates it at each step, so a runaway fit stops soon after `deadline`.
    Returns the instance attributes set (delete them to undo)."""
    wrapped = []
    for attribute in ("loglik", "loglik_totals", "coarse_totals"):
        evaluate = getattr(model, attribute, None)
        if evaluate is None:
            continue

        def checked(*args: Any, _evaluate: Any = evaluate) -> Any:
            if time.thread_time() > deadline:
                raise FitBudgetExceeded("the fit ran out of its time budget")
            return _evaluate(*args)

        setattr(model, attribute, checked)
        wrapped.append(attribute)
    return wrapped


_NUMPY_REPR = re.compile(r"np\.(?:float|int)\d*\(([^()]*)\)")


def plain_words(message: str) -> str:
    """A library message without numpy reprs: `np.float64(0.5)` reads as `0.5`."""
    return _NUMPY_REPR.sub(r"\1", message).strip()


def _plain(value: float) -> float:
    return float(f"{float(value):.6g}")
