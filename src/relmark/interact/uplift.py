"""Uplift: what a playbook really adds, measured against its control group.

A conversion is a completed order within `window` days after the message was due (for the
control group: after it would have been). Treated customers are those who were sent the
message; control customers were held out by the deterministic hash. Differences come with
95% confidence intervals: Wald for the conversion rates, Welch for revenue per customer.
"""

from __future__ import annotations

import math
from pathlib import Path
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


#: Why a playbook's return cannot be computed, in words for the report.
NO_OFFERS = "the playbook made no offers"
NO_COST_YET = "no offer of it was redeemed or gift sent yet: nothing has cost anything"
NO_CONTROL = "no control group to compare with (it needs two or more held-out customers)"


def cost_and_return(
    outcome: pl.DataFrame, costs: pl.DataFrame, currency: str, minor_units: int
) -> dict[str, dict[str, Any]]:
    """Per playbook: its offers' cost (in `currency`) and the return on it.

    `costs` has per sent message with an offer its `cost_minor` and `cost_currency`. The
    incremental revenue is the revenue uplift per customer times the treated customers;
    the return is that ÷ the cost, i.e. R = (ȳ_t − ȳ_c) / c̄_t with c̄_t the mean cost per
    treated customer. Its 95% interval is the delta method's (normal approximation, as the
    other intervals here): Var R ≈ (Var D − 2R·Cov(D, C) + R²·Var C) / C², with
    Var D = s²_t/n_t + s²_c/n_c, Var C = s²_cost/n_t and Cov(D, C) = cov(y_t, cost)/n_t.
    """
    joined = outcome.join(costs, on="message_id", how="left").with_columns(
        pl.col("offer_kind").is_not_null().alias("has_offer"),
        (pl.col("cost_currency").is_not_null() & (pl.col("cost_currency") != currency)).alias(
            "foreign"
        ),
    )
    report: dict[str, dict[str, Any]] = {}
    for (playbook,), group in joined.group_by("playbook", maintain_order=True):
        treated = group.filter(pl.col("group") == "treated")
        control = group.filter(pl.col("group") == "control")
        report[str(playbook)] = _return(treated, control, minor_units)
    return report


def _return(treated: pl.DataFrame, control: pl.DataFrame, minor_units: int) -> dict[str, Any]:
    offers = int(treated["has_offer"].sum())
    foreign = int(treated.filter(pl.col("foreign") & (pl.col("cost_minor") > 0)).height)
    cost = (
        treated.select(
            pl.when(pl.col("foreign")).then(0).otherwise(pl.col("cost_minor").fill_null(0))
        )
        .to_series()
        .cast(pl.Float64)
        .to_numpy()
        / minor_units
    )
    out: dict[str, Any] = {
        "offers": offers,
        "offers_cost": float(cost.sum()) if offers else None,
        "offers_cost_in_other_currencies": foreign,
        "incremental_revenue": None,
        "incremental_revenue_ci95": None,
        "return_on_cost": None,
        "return_on_cost_ci95": None,
        "return_note": None,
    }
    y_t = treated["revenue_minor"].cast(pl.Float64).to_numpy() / minor_units
    y_c = control["revenue_minor"].cast(pl.Float64).to_numpy() / minor_units
    if y_t.size >= 2 and y_c.size >= 2:
        lift = _revenue(treated, control, minor_units)
        n = y_t.size
        out["incremental_revenue"] = lift["revenue_uplift"] * n
        out["incremental_revenue_ci95"] = [b * n for b in lift["revenue_uplift_ci95"]]
    if not offers:
        return out | {"return_note": NO_OFFERS}
    if y_t.size < 2 or y_c.size < 2:
        return out | {"return_note": NO_CONTROL}
    if cost.sum() <= 0:
        return out | {"return_note": NO_COST_YET}
    diff, mean_cost = float(y_t.mean() - y_c.mean()), float(cost.mean())
    ratio = diff / mean_cost
    var_diff = y_t.var(ddof=1) / y_t.size + y_c.var(ddof=1) / y_c.size
    var_cost = cost.var(ddof=1) / y_t.size
    covariance = float(((y_t - y_t.mean()) * (cost - mean_cost)).sum()) / (y_t.size - 1)
    variance = (var_diff - 2 * ratio * covariance / y_t.size + ratio**2 * var_cost) / mean_cost**2
    half = float(stats.norm.ppf(0.975)) * math.sqrt(max(variance, 0.0))
    return out | {"return_on_cost": ratio, "return_on_cost_ci95": [ratio - half, ratio + half]}


def gifts_priced(costs: pl.DataFrame, gifts_dir: Path | None) -> pl.DataFrame:
    """A fulfilled gift whose offer holds no cost is priced from the gift catalogue."""
    unpriced = costs.filter(pl.col("fulfilled") & pl.col("cost_minor").is_null())
    if unpriced.is_empty():
        return costs
    from relmark.interact.gift_catalogue import load_gifts

    catalogue = load_gifts(gifts_dir)
    price = pl.DataFrame(
        {
            "gift": list(catalogue),
            "catalogue_cost": [g.cost_minor for g in catalogue.values()],
            "catalogue_currency": [g.currency for g in catalogue.values()],
        },
        schema={"gift": pl.String, "catalogue_cost": pl.Int64, "catalogue_currency": pl.String},
    )
    missing = pl.col("fulfilled") & pl.col("cost_minor").is_null()
    return (
        costs.join(price, on="gift", how="left")
        .with_columns(
            pl.when(missing)
            .then(pl.col("catalogue_cost"))
            .otherwise(pl.col("cost_minor"))
            .alias("cost_minor"),
            pl.when(missing)
            .then(pl.col("catalogue_currency"))
            .otherwise(pl.col("cost_currency"))
            .alias("cost_currency"),
        )
        .drop("catalogue_cost", "catalogue_currency")
    )
