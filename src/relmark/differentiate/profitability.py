"""Profit per customer after the cost of serving them, tiers, and the whale curve.

profit = gross margin − returns and refunds − discounts − cost to serve, where gross margin
comes from order costs when known, else product unit costs, else a default margin rate, and
cost to serve = support contacts and minutes + marketing contacts + shipping per order.
Customers below the profitability standard get cheaper treatment downstream.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class CostModel:
    """Unit costs in the reporting currency's major unit (e.g. dollars)."""

    default_margin_rate: float = 0.35
    support_contact: float = 2.0
    support_minute: float = 0.8
    marketing_contact: float = 0.05
    shipping_per_order: float = 4.5
    standard: float = 0.0
    """Profit below this is 'below the profitability standard'."""


TIERS = (("A", 0.2), ("B", 0.5), ("C", 0.8), ("D", 1.0))
"""Tier by rank of profit: A the top 20%, B the next 30%, C the next 30%, D the rest."""


def customer_profit(
    orders: pl.DataFrame,
    contacts: pl.DataFrame,
    costs: CostModel,
    marketing: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per customer with revenue, margin, returns, discounts, costs and profit.

    `orders`: customer_id, amount, discount, cost (null when unknown), status.
    `contacts`: customer_id, minutes. `marketing`: customer_id, messages.
    """
    sold = pl.col("status").is_in(["completed", "partially_refunded"])
    undone = pl.col("status").is_in(["returned", "refunded"])
    margin = (
        pl.when(pl.col("cost").is_not_null())
        .then(pl.col("amount") - pl.col("cost"))
        .otherwise(pl.col("amount") * costs.default_margin_rate)
    )
    per_customer = orders.group_by("customer_id").agg(
        pl.col("amount").filter(sold).sum().alias("revenue"),
        margin.filter(sold).sum().alias("gross_margin"),
        pl.col("amount").filter(undone).sum().alias("returned"),
        (pl.col("amount").filter(undone) * costs.default_margin_rate).sum().alias("returns_cost"),
        pl.col("discount").sum().alias("discounts"),
        pl.len().alias("orders_placed"),
    )
    support = contacts.group_by("customer_id").agg(
        pl.len().alias("support_contacts"), pl.col("minutes").sum().alias("support_minutes")
    )
    frame = per_customer.join(support, on="customer_id", how="left")
    if marketing is not None:
        frame = frame.join(marketing, on="customer_id", how="left")
    else:
        frame = frame.with_columns(pl.lit(0).alias("messages"))
    frame = frame.with_columns(
        pl.col("support_contacts", "support_minutes", "messages").fill_null(0)
    )
    cost_to_serve = (
        pl.col("support_contacts") * costs.support_contact
        + pl.col("support_minutes") * costs.support_minute
        + pl.col("messages") * costs.marketing_contact
        + pl.col("orders_placed") * costs.shipping_per_order
    )
    return (
        frame.with_columns(cost_to_serve.alias("cost_to_serve"))
        .with_columns(
            (pl.col("gross_margin") - pl.col("returns_cost") - pl.col("cost_to_serve")).alias(
                "profit"
            )
        )
        .with_columns(
            _tier().alias("profit_tier"),
            (pl.col("profit") < costs.standard).alias("below_standard"),
        )
        .sort("customer_id")
    )


def _tier() -> pl.Expr:
    share = pl.col("profit").rank("ordinal", descending=True) / pl.len()
    tier = pl.lit(TIERS[-1][0])
    for name, upper in reversed(TIERS[:-1]):
        tier = pl.when(share <= upper).then(pl.lit(name)).otherwise(tier)
    return tier


def whale_curve(profits: pl.DataFrame, points: int = 100) -> pl.DataFrame:
    """Cumulative share of total profit against share of customers ranked by profit.

    Peaks above 100% when the least profitable customers destroy value (Kaplan's whale).
    """
    ranked = profits.select(pl.col("profit").sort(descending=True))
    total = ranked["profit"].sum()
    n = ranked.height
    curve = ranked.with_columns(
        (pl.int_range(1, n + 1) / n).alias("customer_share"),
        (pl.col("profit").cum_sum() / (total if total else 1.0)).alias("profit_share"),
    )
    step = max(1, n // points)
    keep = pl.int_range(n) % step == step - 1
    return curve.filter(keep | (pl.int_range(n) == n - 1)).select("customer_share", "profit_share")
