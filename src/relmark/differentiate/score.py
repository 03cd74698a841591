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
from relmark.differentiate.models.base import Array
from relmark.differentiate.profitability import CostModel, customer_profit
from relmark.differentiate.rfm import rfm_scores
from relmark.differentiate.selection import FIT_FAILURES, Choice, choose_model, plain_words
from relmark.differentiate.summary import TimeUnit, rfm_summary
from relmark.errors import InvalidInput

PURCHASE_STATUSES = ("completed", "partially_refunded")
#: Repeat buyers with a positive spend the spend model needs.
MIN_SPENDERS = 3


@dataclass(frozen=True)
class ScoreSettings:
    """How to score. CLV is margin: revenue × `costs.default_margin_rate`, discounted.

    `model` None chooses among the purchase models (see `relmark.differentiate.selection`);
    a name forces that model.
    """

    model: str | None = None
    time_unit: TimeUnit = "week"
    horizon_months: int = 12
    discount_rate: float = 0.10
    draws: int = 100
    costs: CostModel = field(default_factory=CostModel)


@dataclass
class ScoreResult:
    run: dict[str, Any]
    scores: pl.DataFrame


#: Columns only a purchase model (and, for money, the spend model) can fill.
MODEL_COLUMNS = ("p_alive", "expected_purchases", "expected_spend", "clv")


def score(
    orders: pl.DataFrame,
    contacts: pl.DataFrame,
    *,
    as_of: datetime,
    minor_units: int,
    settings: ScoreSettings,
) -> ScoreResult:
    """`orders`: customer_id, ordered_at, currency, amount_minor, discount_minor, cost_minor,
    status. `contacts`: customer_id, minutes. Money comes back in minor units.

    RFM, revenue, profit and tiers need no model and are always computed; P(alive), expected
    purchases and CLV are null, with the reason in the run, when no model can be fitted.
    """
    if settings.model is not None and settings.model not in TRANSACTION_MODELS:
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
    x, t_x, T = (summary[c].to_numpy().astype(float) for c in ("frequency", "recency", "T"))
    choice = choose_model(x, t_x, T, settings.model)
    valued = _values(choice, summary, settings)
    rfm = rfm_scores(
        valued.frame.with_columns(
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
    fit = choice.model.fit_ if choice.model is not None else None
    return ScoreResult(
        run={
            "as_of": as_of,
            "model": choice.name,
            "params": dict(fit.params) if fit else {},
            "spend_params": valued.spend_params,
            "log_likelihood": fit.log_likelihood if fit else None,
            "settings": {**asdict(settings), "costs": asdict(settings.costs)},
            "currency": currencies[0],
            "input_fingerprint": _fingerprint(orders),
            "n_customers": scores.height,
            "selection": {**choice.as_record(), "spend_note": valued.spend_note},
            "p_alive_reason": valued.p_alive_reason,
            "clv_reason": valued.clv_reason,
        },
        scores=_stored_columns(scores, scale),
    )


@dataclass
class Values:
    """Model values per customer (null where not computed) and why they are missing."""

    frame: pl.DataFrame
    p_alive_reason: str | None = None
    clv_reason: str | None = None
    spend_params: dict[str, float] | None = None
    spend_note: str | None = None


def _values(choice: Choice, summary: pl.DataFrame, settings: ScoreSettings) -> Values:
    if choice.model is None:
        return Values(_without_model(summary), choice.reason, choice.reason)
    x, m = (summary[c].to_numpy().astype(float) for c in ("frequency", "monetary_value"))
    spend, clv_reason = _spend_model(x, m)
    value = ValueSettings(
        settings.horizon_months,
        settings.discount_rate,
        settings.costs.default_margin_rate,
        settings.time_unit,
    )
    try:
        frame = score_customers(choice.model, spend, summary, value, draws=settings.draws)
    except FIT_FAILURES as exc:
        reason = f"the {choice.name} model's predictions failed: {plain_words(str(exc))}"
        return Values(_without_model(summary), reason, reason)
    frame = frame.with_columns(
        pl.col(c).cast(pl.Float64).fill_nan(None)
        for c in (*MODEL_COLUMNS, "clv_p10", "clv_p90")
        if c in frame.columns
    )
    p_alive_reason = _missing(frame, "p_alive", choice.name)
    clv_reason = clv_reason or _missing(frame, "clv", choice.name) or p_alive_reason
    spend_fit = spend.fit_ if spend is not None else None
    spend_params = dict(spend_fit.params) if spend_fit else None
    spend_note = spend_fit.note if spend_fit else None
    return Values(frame, p_alive_reason, clv_reason, spend_params, spend_note)


def _spend_model(x: Array, m: Array) -> tuple[GammaGamma | None, str | None]:
    """Gamma-Gamma on the repeat buyers whose mean repeat spend is positive, or why not."""
    usable = (x > 0) & (m > 0)
    if int(usable.sum()) < MIN_SPENDERS:
        return None, (
            f"only {int(usable.sum())} customers bought again with a positive spend; the spend "
            f"model (Gamma-Gamma) needs at least {MIN_SPENDERS} to value future purchases"
        )
    spend = GammaGamma()
    try:
        spend.fit(x[usable], m[usable])
    except FIT_FAILURES as exc:
        return None, f"the spend model (Gamma-Gamma) could not be fitted: {plain_words(str(exc))}"
    return spend, None


def _missing(frame: pl.DataFrame, column: str, model: str) -> str | None:
    empty = int(frame[column].null_count())
    if not empty:
        return None
    return (
        f"the {model} model gives no finite {column.replace('_', ' ')} for {empty:,} of "
        f"{frame.height:,} customers (extreme histories); their other scores are kept"
    )


def _without_model(summary: pl.DataFrame) -> pl.DataFrame:
    return summary.with_columns(pl.lit(None, pl.Float64).alias(c) for c in MODEL_COLUMNS)


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
