"""Maximum-likelihood machinery shared by the models.

Every model supplies its per-customer log-likelihood and its gradient with respect to the
parameters. Fitting works on the unique rows of the data with their counts as weights
(a million customers have far fewer distinct (x, t_x, T) rows), optimises log-parameters
with L-BFGS-B, and refuses to return parameters that did not converge or are not finite.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from relmark.differentiate.models.newton import MAX_THETA, Totals, mean_negative, newton
from relmark.differentiate.models.special import digamma, gammaln, zeta
from relmark.errors import RelmarkError

Array = np.ndarray
LogLik = Callable[[Array, tuple[Array, ...]], tuple[Array, Array]]
"""(params, data columns) → (log-likelihood per row, gradient per row × parameter)."""


#: |log parameter| beyond this (a parameter under 1e-6 or over 1e6) means no interior maximum.
BOUNDARY = np.log(1e6)
#: The optimisers never look further than this (just past BOUNDARY).
SEARCH_BOX = MAX_THETA


def plain(value: float) -> str:
    """A number as a person reads it: 6 significant digits, no numpy repr."""
    return f"{float(value):.6g}"


def plain_params(names: tuple[str, ...] | list[str], values: Array) -> str:
    """`r 0.396, alpha 2.14e+06`: parameters for a message."""
    return ", ".join(f"{n} {plain(v)}" for n, v in zip(names, values, strict=True))


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
    note: str | None = None
    """Set when the maximum lies at a limit of the parameter space (a boundary answer): which
    limit, and what it means for the customers, in plain words; or when customers were left
    out of the fit, and why."""
    excluded: int = 0
    """Customers left out of the fit (Gamma-Gamma: mean repeat spend not positive)."""

    def values(self) -> Array:
        return np.array(list(self.params.values()), dtype=float)


#: Below this many rows a sort finds the distinct rows faster than a hash group-by.
SORT_BELOW = 20_000


def unique_rows(*columns: Array) -> tuple[tuple[Array, ...], Array]:
    """The distinct rows of the given columns and how often each occurs.

    Small inputs come back sorted, large ones in order of first occurrence (a hash group-by
    that keeps order: deterministic, and a sort of half a million rows cheaper).
    """
    arrays = [np.asarray(c, dtype=float) for c in columns]
    if len(arrays[0]) < SORT_BELOW:
        order = np.lexsort(arrays[::-1])
        ordered = [a[order] for a in arrays]
        starts_group = np.zeros(len(order), dtype=bool)
        starts_group[:1] = True
        for a in ordered:
            starts_group[1:] |= a[1:] != a[:-1]
        starts = np.flatnonzero(starts_group)
        counts = np.diff(np.append(starts, len(order))).astype(float)
        return tuple(a[starts] for a in ordered), counts
    import polars as pl

    if len(arrays) <= 3 and all(_small_whole(a) for a in arrays):
        # daily data: the columns pack into one integer key, a cheaper hash than three floats
        key = np.zeros(len(arrays[0]), dtype=np.int64)
        for a in arrays:
            key = (key << PACK_BITS) | a.astype(np.int64)
        counted = pl.DataFrame({"key": key}).group_by("key", maintain_order=True).len()
        packed = counted["key"].to_numpy()
        mask = (1 << PACK_BITS) - 1
        unpacked = [
            ((packed >> (PACK_BITS * (len(arrays) - 1 - i))) & mask).astype(float)
            for i in range(len(arrays))
        ]
        return tuple(unpacked), counted["len"].to_numpy().astype(float)
    names = [f"c{i}" for i in range(len(arrays))]
    frame = pl.DataFrame(dict(zip(names, arrays, strict=True)))
    counted = frame.group_by(names, maintain_order=True).len()
    return tuple(counted[n].to_numpy() for n in names), counted["len"].to_numpy().astype(float)


#: Bits per column when whole-number columns are packed into one key (values below 2**21).
PACK_BITS = 21


def _small_whole(values: Array) -> bool:
    return bool(
        values.size
        and values.min() >= 0
        and values.max() < 2**PACK_BITS
        and np.array_equal(values, np.floor(values))
    )


#: Above this frequency the rising sums fall back to the special functions.
RISING_LIMIT = 100_000


def rising_sums(bases: Array, counts: Array) -> tuple[Array, Array, Array]:
    """For each base c (rows of `counts`: whole numbers n): lnΓ(c+n) - lnΓ(c), ψ(c+n) - ψ(c)
    and ψ'(c) - ψ'(c+n), each shaped like `counts`.

    They are the sums over k < n of ln(c+k), 1/(c+k) and 1/(c+k)²: cumulative sums over
    0..max(n) replace a dozen calls of special functions (the trigamma function alone costs
    tens of microseconds per call), which was most of a small fit's time.
    """
    bases = np.asarray(bases, dtype=float)[:, None]
    top = int(counts.max()) if counts.size else 0
    if top > RISING_LIMIT:
        return (
            gammaln(bases + counts) - gammaln(bases),
            digamma(bases + counts) - digamma(bases),
            zeta(2, bases) - zeta(2, bases + counts),
        )
    terms = bases + np.arange(top)
    inverse = 1.0 / terms
    sums = np.zeros((3, len(bases), top + 1))
    np.cumsum(np.log(terms), axis=1, out=sums[0, :, 1:])
    np.cumsum(inverse, axis=1, out=sums[1, :, 1:])
    np.cumsum(inverse * inverse, axis=1, out=sums[2, :, 1:])
    picked = sums[:, np.arange(len(bases))[:, None], counts.astype(np.int64)]
    return picked[0], picked[1], picked[2]


def with_distinct(data: tuple[Array, ...]) -> tuple[Array, ...]:
    """Append the distinct frequencies and the index back to every row to a data tuple.

    Frequencies take few values; the likelihoods evaluate their special functions (log-gamma,
    digamma) on those and index, which is most of the work saved per evaluation.
    """
    frequency = data[0]
    if _small_whole(frequency):
        # whole numbers (the contract of frequency): a count table instead of a sort
        whole = frequency.astype(np.int64)
        present = np.flatnonzero(np.bincount(whole))
        position = np.zeros(int(present[-1]) + 1, dtype=np.int64)
        position[present] = np.arange(len(present))
        return (*data, present.astype(float), position[whole])
    distinct, inverse = np.unique(frequency, return_inverse=True)
    return (*data, distinct, inverse)


def maximise(
    name: str,
    param_names: tuple[str, ...],
    loglik: LogLik,
    data: tuple[Array, ...],
    weights: Array,
    start: Array,
    n_customers: int,
    totals: Totals | None = None,
    coarse: Totals | None = None,
) -> Fit:
    """Maximise the weighted log-likelihood over log-parameters; fail loudly if it cannot.

    With an analytic Hessian (`totals`) Newton's method runs first; L-BFGS-B on the gradient
    alone is the fallback and the method for models without one. A `coarse` approximation
    of `totals` (cheaper, accurate to ~1e-6) takes Newton's first steps.
    """
    started = time.perf_counter()
    total = weights.sum()
    solved = None
    if totals is not None:
        theta = np.log(start)
        if coarse is not None:
            rough = newton(mean_negative(coarse, data, weights), theta, tolerance=1e-4)
            theta = theta if rough is None else rough.theta
        solved = newton(mean_negative(totals, data, weights), theta)
        if solved is not None and _inverse(solved.hessian) is None:
            solved = None  # not a strict maximum (a saddle?): let L-BFGS-B look
    if solved is not None:
        theta, value, hessian = solved.theta, solved.value, solved.hessian * total
        converged = True
    else:
        from scipy.optimize import minimize  # the fallback only: a costly import

        objective = _objective(loglik, data, weights)

        # bounded, and stopped as soon as it passes the edge: a fit that runs away is
        # reported as such instead of walking to values whose likelihood costs unbounded time
        def stop_at_edge(theta: Array) -> None:
            if np.max(np.abs(theta)) > BOUNDARY + 1:
                raise _RanAway(theta)

        try:
            result = minimize(
                objective,
                np.clip(np.log(start), -SEARCH_BOX, SEARCH_BOX),
                jac=True,
                method="L-BFGS-B",
                bounds=[(-SEARCH_BOX, SEARCH_BOX)] * len(start),
                callback=stop_at_edge,
                options={"maxiter": 1000, "ftol": 1e-15, "gtol": 1e-9},
            )
        except _RanAway as away:
            raise ConvergenceError(
                f"{name} fit ran to the edge of the parameter space "
                f"({plain_params(param_names, np.exp(away.theta))}): the data cannot identify "
                "the model (too few repeat purchases?)"
            ) from None
        theta = result.x
        value, gradient = objective(theta)
        converged = bool(result.success or np.max(np.abs(gradient)) < 1e-6)
        hessian = _differenced_hessian(objective, theta, total)
    params = np.exp(theta)
    shown = plain_params(param_names, params)
    if not converged or not np.all(np.isfinite(params)) or value >= 1e299:
        raise ConvergenceError(
            f"{name} fit did not converge (the optimiser stopped at {shown}): the data "
            "cannot identify the model; check that there are enough repeat customers (a few "
            "dozen at least), or try another model"
        )
    if np.any(np.abs(theta) > BOUNDARY):
        raise ConvergenceError(
            f"{name} fit ran to the edge of the parameter space ({shown}): the data cannot "
            "identify the model (too few repeat purchases?)"
        )
    covariance = _inverse(hessian)
    if covariance is None:
        raise ConvergenceError(
            f"{name} fit found no unique maximum (the likelihood is flat in some parameter; "
            f"{shown}): the data cannot identify the model (too few repeat purchases?)"
        )
    return Fit(
        model=name,
        params=dict(zip(param_names, params.tolist(), strict=True)),
        log_likelihood=-value * total,
        n_customers=n_customers,
        fit_seconds=time.perf_counter() - started,
        covariance=covariance,
    )


class _RanAway(Exception):
    """L-BFGS-B passed the edge of the parameter space (see `maximise`)."""

    def __init__(self, theta: Array) -> None:
        super().__init__("ran away")
        self.theta = theta.copy()


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
    totals: Totals | None = None,
    coarse: Totals | None = None,
) -> Fit:
    """Maximise over weighted unique rows.

    Large data first fits a sample of the rows (an unbiased estimate of the same likelihood,
    with its own convergence and identifiability checks); from its optimum Newton's method
    needs two or three full-data evaluations.
    """
    if len(weights) <= PILOT_ABOVE:
        return maximise(
            name, param_names, loglik, prepare(*rows), weights, start, n_customers, totals, coarse
        )
    started = time.perf_counter()
    pick = _pilot_rows(rows)
    pilot = maximise(
        name,
        param_names,
        loglik,
        prepare(*(r[pick] for r in rows)),
        weights[pick],
        start,
        n_customers,
        totals,
        coarse,
    )
    # from the pilot's optimum Newton needs two or three full-data iterations
    fit = maximise(
        name, param_names, loglik, prepare(*rows), weights, pilot.values(), n_customers, totals
    )
    return replace(fit, fit_seconds=time.perf_counter() - started)


def _pilot_rows(rows: tuple[Array, ...]) -> Array:
    """PILOT_ROWS rows chosen by a hash of their values, not their position: the same sample
    (and so the same fit, to rounding) whatever order an engine returns the rows in."""
    mixed = np.zeros(len(rows[0]), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column, multiplier in zip(rows, _HASH_MULTIPLIERS, strict=False):
            mixed ^= np.ascontiguousarray(column, dtype=float).view(np.uint64) * multiplier
            mixed ^= mixed >> np.uint64(31)
            mixed *= np.uint64(0xBF58476D1CE4E5B9)
            mixed ^= mixed >> np.uint64(29)
    chosen = np.argpartition(mixed, PILOT_ROWS)[:PILOT_ROWS]
    return chosen[np.argsort(mixed[chosen], kind="stable")]


_HASH_MULTIPLIERS = tuple(
    np.uint64(m) for m in (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F)
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


def _differenced_hessian(
    objective: Callable[[Array], tuple[float, Array]], theta: Array, total: float
) -> Array:
    """Hessian of the total negative log-likelihood, by differencing the gradient."""
    k = theta.size
    hessian = np.empty((k, k))
    for i in range(k):
        step = 1e-5 * max(1.0, abs(theta[i]))
        up, down = theta.copy(), theta.copy()
        up[i] += step
        down[i] -= step
        hessian[:, i] = (objective(up)[1] - objective(down)[1]) * total / (2 * step)
    return hessian


def _inverse(hessian: Array) -> Array | None:
    """Covariance of the log-parameters; None when some direction is flat (no strict maximum)."""
    hessian = (hessian + hessian.T) / 2
    eigenvalues = np.linalg.eigvalsh(hessian)
    if not np.all(np.isfinite(eigenvalues)) or eigenvalues.min() <= 1e-9 * eigenvalues.max():
        return None
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
