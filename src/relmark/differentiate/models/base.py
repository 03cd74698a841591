"""Maximum-likelihood machinery shared by the models.

Every model supplies its per-customer log-likelihood and its gradient with respect to the
parameters. Fitting works on the unique rows of the data with their counts as weights
(a million customers have far fewer distinct (x, t_x, T) rows), optimises log-parameters
with L-BFGS-B, and refuses to return parameters that did not converge or are not finite.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize

from relmark.errors import RelmarkError

Array = np.ndarray
LogLik = Callable[[Array, tuple[Array, ...]], tuple[Array, Array]]
"""(params, data columns) → (log-likelihood per row, gradient per row × parameter)."""


#: |log parameter| beyond this (a parameter under 1e-6 or over 1e6) means no interior maximum.
BOUNDARY = np.log(1e6)


class ConvergenceError(RelmarkError):
    """The optimiser did not find a maximum; no parameters are returned."""


@dataclass(frozen=True)
class Fit:
    """A fitted model's parameters and how well they explain the data."""

    model: str
    params: dict[str, float]
    log_likelihood: float
    n_customers: int
    fit_seconds: float
    covariance: Array | None = field(default=None, repr=False, compare=False)
    """Covariance of the log-parameters (inverse Hessian), for intervals."""

    def values(self) -> Array:
        return np.array(list(self.params.values()), dtype=float)


def unique_rows(*columns: Array) -> tuple[tuple[Array, ...], Array]:
    """The distinct rows of the given columns and how often each occurs (hash group-by)."""
    import polars as pl

    names = [f"c{i}" for i in range(len(columns))]
    frame = pl.DataFrame(
        {n: np.asarray(c, dtype=float) for n, c in zip(names, columns, strict=True)}
    )
    counted = frame.group_by(names).len().sort(names)
    return tuple(counted[n].to_numpy() for n in names), counted["len"].to_numpy().astype(float)


def with_distinct(data: tuple[Array, ...]) -> tuple[Array, ...]:
    """Append the distinct frequencies and the index back to every row to a data tuple.

    Frequencies take few values; the likelihoods evaluate their special functions (log-gamma,
    digamma) on those and index, which is most of the work saved per evaluation.
    """
    distinct, inverse = np.unique(data[0], return_inverse=True)
    return (*data, distinct, inverse)


def maximise(
    name: str,
    param_names: tuple[str, ...],
    loglik: LogLik,
    data: tuple[Array, ...],
    weights: Array,
    start: Array,
    n_customers: int,
) -> Fit:
    """Maximise the weighted log-likelihood over log-parameters; fail loudly if it cannot."""
    started = time.perf_counter()
    total = weights.sum()

    objective = _objective(loglik, data, weights)
    result = minimize(
        objective,
        np.log(start),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-9},
    )
    params = np.exp(result.x)
    value, gradient = objective(result.x)
    if (
        not (result.success or np.max(np.abs(gradient)) < 1e-6)
        or not np.all(np.isfinite(params))
        or value >= 1e299
    ):
        raise ConvergenceError(
            f"{name} fit did not converge: {result.message} (parameters "
            f"{dict(zip(param_names, np.round(params, 6), strict=True))}); check the data "
            "(enough repeat customers, consistent recency and T) or try another time unit"
        )
    if np.any(np.abs(result.x) > BOUNDARY):
        raise ConvergenceError(
            f"{name} fit ran to the edge of the parameter space "
            f"{dict(zip(param_names, np.round(params, 6), strict=True))}: the data cannot "
            "identify the model (too few repeat purchases?)"
        )
    covariance = _covariance(objective, result.x, total)
    if covariance is None:
        raise ConvergenceError(
            f"{name} fit found no unique maximum (flat likelihood in some parameter, "
            f"{dict(zip(param_names, np.round(params, 6), strict=True))}): the data cannot "
            "identify the model (too few repeat purchases?)"
        )
    return Fit(
        model=name,
        params=dict(zip(param_names, params.tolist(), strict=True)),
        log_likelihood=-value * total,
        n_customers=n_customers,
        fit_seconds=time.perf_counter() - started,
        covariance=covariance,
    )


#: Above this many distinct rows, a fit starts from a fit on a random sample of them.
PILOT_ABOVE = 50_000
PILOT_ROWS = 20_000


def fit_unique_rows(
    name: str,
    param_names: tuple[str, ...],
    loglik: LogLik,
    rows: tuple[Array, ...],
    weights: Array,
    start: Array,
    n_customers: int,
    prepare: Callable[..., tuple[Array, ...]],
) -> Fit:
    """Maximise over weighted unique rows.

    Large data first fits a uniform sample of the rows (an unbiased estimate of the same
    likelihood, with its own convergence and identifiability checks). Its inverse Hessian,
    scaled to the full weight, seeds BFGS on the full data: a few full-data evaluations
    instead of dozens. The scaled pilot covariance serves the intervals.
    """
    if len(weights) <= PILOT_ABOVE:
        return maximise(name, param_names, loglik, prepare(*rows), weights, start, n_customers)
    started = time.perf_counter()
    pick = np.random.default_rng(0).choice(len(weights), PILOT_ROWS, replace=False)
    pilot = maximise(
        name,
        param_names,
        loglik,
        prepare(*(r[pick] for r in rows)),
        weights[pick],
        start,
        n_customers,
    )
    assert pilot.covariance is not None
    scale = weights.sum() / weights[pick].sum()
    total = weights.sum()
    seed = pilot.covariance / scale * total
    objective = _objective(loglik, prepare(*rows), weights)
    # BFGS on the full data, its inverse Hessian seeded with the pilot's (rescaled to the
    # mean objective): superlinear from the first step
    result = minimize(
        objective,
        np.log(pilot.values()),
        jac=True,
        method="BFGS",
        options={"hess_inv0": (seed + seed.T) / 2, "gtol": 1e-9, "maxiter": 200},
    )
    theta = result.x
    value, gradient = objective(theta)
    if np.max(np.abs(gradient)) > 1e-7 or not np.isfinite(value):
        return maximise(
            name, param_names, loglik, prepare(*rows), weights, np.exp(theta), n_customers
        )
    params = np.exp(theta)
    return Fit(
        model=name,
        params=dict(zip(param_names, params.tolist(), strict=True)),
        log_likelihood=-value * total,
        n_customers=n_customers,
        fit_seconds=time.perf_counter() - started,
        covariance=pilot.covariance / scale,
    )


def _objective(
    loglik: LogLik, data: tuple[Array, ...], weights: Array
) -> Callable[[Array], tuple[float, Array]]:
    """Mean negative log-likelihood over log-parameters, with its gradient."""
    total = weights.sum()

    def objective(theta: Array) -> tuple[float, Array]:
        params = np.exp(theta)
        ll, grad = loglik(params, data)
        value = -float(weights @ ll) / total
        gradient = -(weights @ grad) * params / total
        if not np.isfinite(value):
            return 1e300, np.zeros_like(theta)
        return value, gradient

    return objective


def _covariance(
    objective: Callable[[Array], tuple[float, Array]], theta: Array, total: float
) -> Array | None:
    """Inverse Hessian of the total negative log-likelihood, by differencing the gradient."""
    k = theta.size
    hessian = np.empty((k, k))
    for i in range(k):
        step = 1e-5 * max(1.0, abs(theta[i]))
        up, down = theta.copy(), theta.copy()
        up[i] += step
        down[i] -= step
        hessian[:, i] = (objective(up)[1] - objective(down)[1]) * total / (2 * step)
    hessian = (hessian + hessian.T) / 2
    eigenvalues = np.linalg.eigvalsh(hessian)
    if not np.all(np.isfinite(eigenvalues)) or eigenvalues.min() <= 1e-9 * eigenvalues.max():
        return None  # not a strict maximum: some direction is flat
    return np.linalg.inv(hessian)


def check_inputs(frequency: Array, recency: Array, T: Array) -> None:
    """The shared input contract of the transaction models, with exact messages."""
    from relmark.errors import InvalidInput

    if not (len(frequency) == len(recency) == len(T)):
        raise InvalidInput.single("summary", "frequency, recency and T differ in length")
    if len(frequency) == 0:
        raise InvalidInput.single("summary", "no customers to fit")
    if np.any(recency > T + 1e-9):
        raise InvalidInput.single(
            "summary", f"recency larger than T for {int(np.sum(recency > T + 1e-9))} customers"
        )
    if np.any(frequency < 0) or np.any(recency < 0):
        raise InvalidInput.single("summary", "frequency and recency must not be negative")
    if np.any((frequency == 0) & (recency != 0)):
        raise InvalidInput.single("summary", "recency must be 0 for customers without repeats")
    if np.any(np.round(frequency) != frequency):
        raise InvalidInput.single("summary", "frequency must be a whole number")


def distinct_index(**columns: Array) -> tuple[dict[str, Array], Array]:
    """The distinct combinations of the columns, and for every row the index of its own."""
    import polars as pl

    frame = pl.DataFrame({n: np.asarray(c, dtype=float).ravel() for n, c in columns.items()})
    keys = frame.unique(maintain_order=True).with_row_index("_key")
    index = frame.join(keys, on=list(columns), how="left", maintain_order="left")["_key"]
    return {n: keys[n].to_numpy() for n in columns}, index.to_numpy()


def per_distinct(func: Callable[..., Array], **columns: Array) -> Array:
    """`func` evaluated once per distinct combination of the (broadcast) columns.

    A million customers share far fewer distinct (x, T) pairs; the expensive special
    functions run on those and the results are indexed back in the original order.
    """
    arrays = np.broadcast_arrays(*(np.asarray(c, dtype=float) for c in columns.values()))
    keys, index = distinct_index(**dict(zip(columns, arrays, strict=True)))
    return np.asarray(func(**keys), dtype=float)[index].reshape(arrays[0].shape)
