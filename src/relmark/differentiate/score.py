"""Score every customer of a store: summary → model fits → CLV, P(alive), RFM, profit.

Pure: order and contact frames in, one scores frame and the run's description out. The
pipeline reads the inputs from the store and saves the result.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from relmark.differentiate.clv import ValueSettings, score_customers
from relmark.differentiate.models import TRANSACTION_MODELS, GammaGamma
from relmark.differentiate.profitability import CostModel, customer_profit
from relmark.differentiate.rfm import rfm_scores
from relmark.differentiate.summary import TimeUnit, rfm_summary
from relmark.errors import InvalidInput

PURCHASE_STATUSES = ("completed", "partially_refunded")


@dataclass(frozen=True)
class ScoreSettings:
    """How to score. CLV is margin: revenue × `costs.default_margin_rate`, discounted."""

    model: str = "bgnbd"
    time_unit: TimeUnit = "week"
    horizon_months: int = 12
    discount_rate: float = 0.10
    draws: int = 100
    costs: CostModel = field(default_factory=CostModel)


@dataclass
class ScoreResult:
    run: dict[str, Any]
    scores: pl.DataFrame


def score(
    orders: pl.DataFrame,
    contacts: pl.DataFrame,
    *,
    as_of: datetime,
    minor_units: int,
    settings: ScoreSettings,
) -> ScoreResult:
    """`orders`: customer_id, ordered_at, currency, amount_minor, discount_minor, cost_minor,
    status. `contacts`: customer_id, minutes. Money comes back in minor units."""
    if settings.model not in TRANSACTION_MODELS:
        raise InvalidInput.single(
            "--model", f"{settings.model!r} is not one of {', '.join(TRANSACTION_MODELS)}"
        )
    currencies = orders["currency"].unique().sort().to_list()
    if len(currencies) > 1:
        raise InvalidInput.single(
            "orders",
            f"orders are in {len(currencies)} currencies ({', '.join(currencies)}); "
            "scoring needs one currency (see relmark.differentiate.currency)",
        )
    scale = float(minor_units)
    purchases = orders.filter(pl.col("status").is_in(PURCHASE_STATUSES)).select(
        "customer_id",
        pl.col("ordered_at").alias("timestamp"),
        (pl.col("amount_minor") / scale).alias("amount"),
    )
    if purchases.height == 0:
        raise InvalidInput.single("orders", "no completed orders to score")
    summary = rfm_summary(purchases, as_of=as_of, time_unit=settings.time_unit)
    x = summary["frequency"].to_numpy().astype(float)
    model = TRANSACTION_MODELS[settings.model]()
    fit = model.fit(x, summary["recency"].to_numpy(), summary["T"].to_numpy())
    spend = GammaGamma()
    spend_fit = spend.fit(x, summary["monetary_value"].to_numpy())
    value = ValueSettings(
        settings.horizon_months,
        settings.discount_rate,
        settings.costs.default_margin_rate,
        settings.time_unit,
    )
    valued = score_customers(model, spend, summary, value, draws=settings.draws)
    rfm = rfm_scores(
        valued.with_columns(
            ((pl.lit(as_of) - pl.col("last_purchase")).dt.total_days()).alias("days_since_last")
        )
    )
    profit = customer_profit(
        orders.select(
            "customer_id",
            (pl.col("amount_minor") / scale).alias("amount"),
            (pl.col("discount_minor") / scale).alias("discount"),
            (pl.col("cost_minor") / scale).alias("cost"),
            "status",
        ),
        contacts,
        settings.costs,
    )
    scores = rfm.join(profit.drop("revenue"), on="customer_id", how="left").with_columns(
        pl.col("gross_margin", "cost_to_serve", "profit").fill_null(0.0),
        pl.col("profit_tier").fill_null("D"),
        pl.col("below_standard").fill_null(True),
    )
    return ScoreResult(
        run={
            "as_of": as_of,
            "model": settings.model,
            "params": fit.params,
            "spend_params": spend_fit.params,
            "log_likelihood": fit.log_likelihood,
            "settings": {**asdict(settings), "costs": asdict(settings.costs)},
            "currency": currencies[0],
            "input_fingerprint": _fingerprint(orders),
            "n_customers": scores.height,
        },
        scores=_stored_columns(scores, scale),
    )


def _stored_columns(scores: pl.DataFrame, scale: float) -> pl.DataFrame:
    def minor(column: str) -> pl.Expr:
        return (pl.col(column) * scale).round(0).cast(pl.Int64)

    optional = [minor(c).alias(f"{c}_minor") for c in ("clv_p10", "clv_p90") if c in scores.columns]
    return scores.select(
        "customer_id",
        "orders",
        minor("revenue").alias("revenue_minor"),
        pl.col("days_since_last").cast(pl.Int64),
        pl.col("frequency").cast(pl.Int64),
        "recency",
        pl.col("T").alias("age"),
        "r",
        "f",
        "m",
        "segment",
        "explanation",
        "p_alive",
        "expected_purchases",
        minor("expected_spend").alias("expected_spend_minor"),
        minor("clv").alias("clv_minor"),
        *optional,
        minor("gross_margin").alias("gross_margin_minor"),
        minor("cost_to_serve").alias("cost_to_serve_minor"),
        minor("profit").alias("profit_minor"),
        "profit_tier",
        "below_standard",
    )


def _fingerprint(orders: pl.DataFrame) -> str:
    """SHA-256 of the scored orders: equal fingerprints mean the same input."""
    ordered = orders.sort(orders.columns)
    return hashlib.sha256(ordered.write_csv().encode("utf-8")).hexdigest()
