"""What the purchase-and-dropout models share: fitting on (frequency, recency, T) and the
interface every prediction uses."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import replace

import numpy as np

from relmark.differentiate.models.base import (
    Array,
    ConvergenceError,
    Fit,
    check_inputs,
    fit_unique_rows,
    unique_rows,
    with_distinct,
)
from relmark.differentiate.models.blas import one_thread
from relmark.differentiate.models.newton import Totals
from relmark.errors import InvalidInput, RelmarkError

#: Days per unit that are tried when times are not whole numbers (weeks).
DAY_SCALES = (7.0,)


def days_per_unit(recency: Array, T: Array) -> float:
    """1 when the times are whole numbers already (or not whole days in any known unit);
    otherwise the days per unit that makes every time a whole number of days."""
    if _whole(recency) and _whole(T):
        return 1.0
    for scale in DAY_SCALES:
        if _whole(recency * scale) and _whole(T * scale):
            return scale
    return 1.0


def _whole(values: Array) -> bool:
    """Whole numbers to rounding (a week of 213 days is 30.428571428571427)."""
    return bool(np.all(np.abs(values - np.rint(values)) <= 1e-9 * np.maximum(1.0, values)))


def in_unit(fit: Fit, scale: float, time_params: tuple[str, ...], repeats: float) -> Fit:
    """A fit on whole days expressed in a unit of `scale` days."""
    params = {k: v / scale if k in time_params else v for k, v in fit.params.items()}
    return replace(fit, params=params, log_likelihood=fit.log_likelihood + repeats * np.log(scale))


class TransactionModel(ABC):
    """A latent-attrition model of repeat purchases (BG/NBD family, Pareto/NBD)."""

    name: str
    param_names: tuple[str, ...]
    start: tuple[float, ...]

    def __init__(self, fit: Fit | None = None) -> None:
        self.fit_: Fit | None = fit

    @classmethod
    def with_params(cls, **params: float) -> TransactionModel:
        """A model with known parameters (published values, or a saved scoring run)."""
        values = {n: float(params[n]) for n in cls.param_names}
        return cls(Fit(cls.name, values, float("nan"), 0, 0.0))

    @property
    def params(self) -> Array:
        if self.fit_ is None:
            raise RelmarkError(f"the {self.name} model is not fitted yet")
        return self.fit_.values()

    #: Parameters measured in the time unit (a rate's scale): divided by the days per unit
    #: when a fit on whole days is expressed in a longer unit.
    time_params: tuple[str, ...] = ("alpha",)

    def fit(self, frequency: Array, recency: Array, T: Array) -> Fit:
        """Maximum-likelihood fit on one row per customer.

        Times that are whole days in a longer unit (weeks: days / 7) are fitted on the whole
        days, whose few distinct rows compress far better, and the parameters rescaled: the
        time unit is only a scale (alpha, and Pareto/NBD's beta, are in the unit; the
        log-likelihood shifts by Σx·ln(days per unit); the covariance of the log-parameters
        is the same).
        """
        frequency, recency, T = (np.asarray(a, dtype=float) for a in (frequency, recency, T))
        check_inputs(frequency, recency, T)
        scale = days_per_unit(recency, T)
        if scale != 1.0:
            recency, T = np.rint(recency * scale), np.rint(T * scale)
        rows, weights = unique_rows(frequency, recency, T)
        return self._fit_rows(rows, weights, scale)

    def fit_distinct(self, frequency: Array, recency: Array, T: Array, counts: Array) -> Fit:
        """Fit from distinct (x, t_x, T) rows and how many customers share each: what a
        group-by in a distributed engine returns, so that only those rows travel."""
        frequency, recency, T, counts = (
            np.asarray(a, dtype=float) for a in (frequency, recency, T, counts)
        )
        check_inputs(frequency, recency, T)
        if len(counts) != len(frequency) or np.any(counts <= 0):
            raise InvalidInput.single("summary", "counts must be positive, one per distinct row")
        return self._fit_rows((frequency, recency, T), counts)

    def _fit_rows(self, rows: tuple[Array, ...], counts: Array, scale: float = 1.0) -> Fit:
        """Fit on distinct rows; with `scale` (days per unit), rows are in whole days and the
        fit is expressed in the unit."""
        with one_thread():
            return self._fit_rows_in_unit(rows, counts, scale)

    def _fit_rows_in_unit(self, rows: tuple[Array, ...], counts: Array, scale: float) -> Fit:
        started = time.perf_counter()
        try:
            self.fit_ = fit_unique_rows(
                self.name,
                self.param_names,
                self.loglik,
                rows,
                counts,
                self.starting_point(rows, counts),
                n_customers=int(counts.sum()),
                prepare=lambda *columns: with_distinct(columns),
                totals=self.loglik_totals,
                coarse=self.coarse_totals,
            )
        except ConvergenceError as error:
            # no interior maximum: look at the limits of the parameter space (in the unit,
            # so that the note's rates read in it)
            x, tx, T = rows
            self.fit_ = self.fit_limits((x, tx / scale, T / scale), counts, started, error)
            return self.fit_
        if scale != 1.0:
            self.fit_ = in_unit(self.fit_, scale, self.time_params, float(counts @ rows[0]))
        return self.fit_

    def fit_limits(
        self, rows: tuple[Array, ...], counts: Array, started: float, error: ConvergenceError
    ) -> Fit:
        """A boundary answer (a `Fit` with a note) when the model has limits it can report;
        otherwise the interior fit's error."""
        raise error

    def starting_point(self, rows: tuple[Array, ...], weights: Array) -> Array:
        """Where the optimiser starts, from the distinct (x, t_x, T) rows and their counts."""
        return np.array(self.start, dtype=float)

    def log_likelihood(self, frequency: Array, recency: Array, T: Array) -> float:
        """Total log-likelihood of the data under the current parameters."""
        data = tuple(np.asarray(a, dtype=float) for a in (frequency, recency, T))
        ll, _ = self.loglik(self.params, with_distinct(data))
        return float(ll.sum())

    @abstractmethod
    def loglik_totals(
        self, params: Array, data: tuple[Array, ...], weights: Array
    ) -> tuple[float, Array, Array]:
        """Weighted log-likelihood, gradient and Hessian (for Newton's method)."""

    #: A cheaper approximation of `loglik_totals` for Newton's first steps, if the model has one.
    coarse_totals: Totals | None = None

    @abstractmethod
    def loglik(self, params: Array, data: tuple[Array, ...]) -> tuple[Array, Array]:
        """Per-row log-likelihood and its gradient (rows × parameters).

        `data` is (x, t_x, T, distinct x, index of each row's x among them).
        """

    @abstractmethod
    def probability_alive(self, frequency: Array, recency: Array, T: Array) -> Array:
        """P(the customer has not dropped out by T)."""

    @abstractmethod
    def expected_purchases(
        self, t: float | Array, frequency: Array, recency: Array, T: Array
    ) -> Array:
        """Expected number of purchases in the next `t` periods, given the history."""

    def expected_purchases_curve(
        self, times: Array, frequency: Array, recency: Array, T: Array
    ) -> Array:
        """Expected purchases by each of `times` (rows × times): the input of CLV.

        Models whose expectation factorises override this to share the costly part.
        """
        return np.column_stack(
            [
                self.expected_purchases(t, frequency, recency, T)
                for t in np.asarray(times, dtype=float)
            ]
        )

    def expected_purchases_new(self, t: float | Array) -> Array:
        """Expected purchases in (0, t] of a customer just acquired: for holdout checks."""
        raise NotImplementedError(f"{self.name} has no unconditional expectation yet")
