"""Uplift: what a playbook really adds, measured against its control group.

A conversion is a completed order within `window` days after the message was due (for the
control group: after it would have been). Treated customers are those who were sent the
message; control customers were held out by the deterministic hash. Differences come with
95% confidence intervals: Wald for the conversion rates, Welch for revenue per customer.
"""

from __future__ import annotations

import math
from typing import Any

import polars as pl
from scipy import stats


def outcomes(messages: pl.DataFrame, orders: pl.DataFrame, window_days: int) -> pl.DataFrame:
    """Per message (playbook, group, customer): converted? revenue in the window (minor)."""
    joined = (
        messages.join(orders, on="customer_id", how="left")
        .with_columns(
            (
                (pl.col("ordered_at") > pl.col("due_at"))
                & (pl.col("ordered_at") <= pl.col("due_at") + pl.duration(days=window_days))
            )
            .fill_null(False)
            .alias("in_window")
        )
        .group_by("message_id", "playbook", "group", "customer_id")
        .agg(
            pl.col("in_window").any().alias("converted"),
            pl.col("amount_minor").filter(pl.col("in_window")).sum().alias("revenue_minor"),
        )
    )
    return joined.with_columns(pl.col("revenue_minor").fill_null(0))


def summarise(outcome: pl.DataFrame, minor_units: int) -> list[dict[str, Any]]:
    """One row per playbook: treated vs control, difference, 95% intervals."""
    report = []
    for (playbook,), group in outcome.sort("playbook").group_by("playbook", maintain_order=True):
        treated = group.filter(pl.col("group") == "treated")
        control = group.filter(pl.col("group") == "control")
        row: dict[str, Any] = {
            "playbook": playbook,
            "treated": treated.height,
            "control": control.height,
        }
        row |= _rates(treated, control)
        row |= _revenue(treated, control, minor_units)
        report.append(row)
    return report


def _rates(treated: pl.DataFrame, control: pl.DataFrame) -> dict[str, Any]:
    n_t, n_c = treated.height, control.height
    p_t = float(treated["converted"].mean()) if n_t else None
    p_c = float(control["converted"].mean()) if n_c else None
    out: dict[str, Any] = {"conversion_treated": p_t, "conversion_control": p_c}
    if p_t is None or p_c is None:
        return out | {"conversion_uplift": None, "conversion_uplift_ci95": None}
    diff = p_t - p_c
    se = math.sqrt(p_t * (1 - p_t) / n_t + p_c * (1 - p_c) / n_c)
    z = stats.norm.ppf(0.975)
    return out | {
        "conversion_uplift": diff,
        "conversion_uplift_ci95": [diff - z * se, diff + z * se],
    }


def _revenue(treated: pl.DataFrame, control: pl.DataFrame, minor_units: int) -> dict[str, Any]:
    t = treated["revenue_minor"].cast(pl.Float64).to_numpy() / minor_units
    c = control["revenue_minor"].cast(pl.Float64).to_numpy() / minor_units
    out: dict[str, Any] = {
        "revenue_per_customer_treated": float(t.mean()) if t.size else None,
        "revenue_per_customer_control": float(c.mean()) if c.size else None,
    }
    if t.size < 2 or c.size < 2:
        return out | {"revenue_uplift": None, "revenue_uplift_ci95": None}
    diff = float(t.mean() - c.mean())
    var_t, var_c = t.var(ddof=1) / t.size, c.var(ddof=1) / c.size
    se = math.sqrt(var_t + var_c)
    if se == 0:
        return out | {"revenue_uplift": diff, "revenue_uplift_ci95": [diff, diff]}
    dof = (var_t + var_c) ** 2 / (
        (var_t**2 / (t.size - 1) if t.size > 1 else 0)
        + (var_c**2 / (c.size - 1) if c.size > 1 else 0)
    )
    q = float(stats.t.ppf(0.975, dof))
    return out | {"revenue_uplift": diff, "revenue_uplift_ci95": [diff - q * se, diff + q * se]}
