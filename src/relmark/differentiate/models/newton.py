"""Newton's method on log-parameters, for models that supply an analytic Hessian.

A quasi-Newton method (L-BFGS-B) needs 20-40 likelihood evaluations on these four-parameter
problems, most of them creeping towards the optimum; Newton's method with the exact Hessian
converges quadratically and needs 6-12, each about 1.5 times the cost of a gradient
evaluation. The final Hessian is also the one the parameter intervals need, so no extra
differencing is done. The method is safeguarded (eigenvalues made positive, steps capped,
backtracking on the objective); when it still fails the caller falls back to L-BFGS-B.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Array = np.ndarray
Totals = Callable[[Array, tuple[Array, ...], Array], tuple[float, Array, Array]]
"""(params, data columns, row weights) → (weighted log-likelihood, its gradient, its Hessian),
all with respect to the parameters themselves (not their logs)."""

#: Largest step in any log-parameter (a factor of e^2 ≈ 7.4 per iteration).
MAX_STEP = 2.0
GRADIENT_TOLERANCE = 1e-10
#: A gradient this small counts as converged when rounding stops the objective decreasing.
NOISE_TOLERANCE = 1e-7
#: A Newton step this small in every log-parameter (a relative change of 1e-5) is the last.
FINAL_STEP = 1e-5
#: A log-parameter past this (a parameter under 4e-7 or over 2.7e6) is a run-away: give up
#: rather than evaluate the likelihood ever further out (Pareto/NBD's cost grows with r + s).
MAX_THETA = float(np.log(1e6)) + 1.0


@dataclass(frozen=True)
class NewtonResult:
    theta: Array
    value: float
    """Mean negative log-likelihood per unit of weight."""
    gradient: Array
    hessian: Array
    """Hessian of the mean negative log-likelihood in log-parameters."""
    iterations: int


def mean_negative(
    totals: Totals, data: tuple[Array, ...], weights: Array
) -> Callable[[Array], tuple[float, Array, Array]]:
    """The objective over log-parameters θ: value, gradient and Hessian per unit of weight.

    With p = exp(θ): ∇θ = p ⊙ ∇p and ∇²θ = diag(p) ∇²p diag(p) + diag(p ⊙ ∇p).
    """
    total = float(weights.sum())

    def objective(theta: Array) -> tuple[float, Array, Array]:
        params = np.exp(theta)
        value, gradient, hessian = totals(params, data, weights)
        grad_theta = gradient * params
        hess_theta = params[:, None] * hessian * params[None, :] + np.diag(grad_theta)
        return -value / total, -grad_theta / total, -hess_theta / total

    return objective


def newton(
    objective: Callable[[Array], tuple[float, Array, Array]],
    theta: Array,
    *,
    max_iterations: int = 100,
    tolerance: float = GRADIENT_TOLERANCE,
) -> NewtonResult | None:
    """Minimise `objective` from `theta` until no gradient component exceeds `tolerance`;
    None when it cannot (the caller falls back)."""
    value, gradient, hessian = objective(theta)
    for iteration in range(max_iterations):
        if not (np.isfinite(value) and np.all(np.isfinite(gradient))):
            return None
        if not np.all(np.isfinite(hessian)) or np.max(np.abs(theta)) > MAX_THETA:
            return None
        if np.max(np.abs(gradient)) < tolerance:
            return NewtonResult(theta, value, gradient, hessian, iteration)
        step = _descent_step(gradient, hessian)
        if np.max(np.abs(step)) < FINAL_STEP:
            # Newton converges quadratically (the Hessian is exact): after a step this small
            # the parameters are within about its square, 1e-10, of the optimum. Take it
            # without one more evaluation of the likelihood (a quarter of a large fit's time);
            # value and Hessian are the last point's, a relative 1e-11 away.
            return NewtonResult(theta + step, value, gradient, hessian, iteration + 1)
        slope = float(gradient @ step)
        length = 1.0
        for _ in range(40):
            trial = theta + length * step
            trial_value, trial_gradient, trial_hessian = objective(trial)
            if np.isfinite(trial_value) and trial_value <= value + 1e-4 * length * slope:
                break
            length /= 2
        else:
            if np.max(np.abs(gradient)) < NOISE_TOLERANCE:
                return NewtonResult(theta, value, gradient, hessian, iteration)
            return None
        if trial_value >= value and np.max(np.abs(trial_gradient)) >= np.max(np.abs(gradient)):
            # no progress at all: rounding noise near the optimum
            if np.max(np.abs(gradient)) < NOISE_TOLERANCE:
                return NewtonResult(theta, value, gradient, hessian, iteration)
            return None
        theta, value, gradient, hessian = trial, trial_value, trial_gradient, trial_hessian
    return None


def _descent_step(gradient: Array, hessian: Array) -> Array:
    """Newton step with the Hessian's eigenvalues made positive, capped at MAX_STEP."""
    eigenvalues, vectors = np.linalg.eigh((hessian + hessian.T) / 2)
    floor = max(1e-10, 1e-8 * float(np.max(np.abs(eigenvalues))))
    step = -vectors @ ((vectors.T @ gradient) / np.maximum(np.abs(eigenvalues), floor))
    largest = float(np.max(np.abs(step)))
    return step * (MAX_STEP / largest) if largest > MAX_STEP else step
