"""Audience conditions as Polars expressions over candidate rows joined with their facts.

A playbook's audiences are alternatives: a customer qualifies when any of them matches.
Score conditions need a score; a customer never scored matches none of them. A customer whose
P(alive) or CLV could not be computed (the scoring run says why) matches no condition on it;
`missing_value` names them, so the planner holds their message with that reason rather than
dropping them unseen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import reduce

import polars as pl

from relmark.interact.playbook import Audience, Playbook


@dataclass
class AudienceFacts:
    """What audience conditions look at beyond the candidate's own row."""

    thresholds: dict[tuple[str, float], float] = field(default_factory=dict)
    """(column, share) → the lowest value inside that top share of the live scored
    customers (the database computes them: store.score_reads.top_threshold)."""
    categories: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema={"customer_id": pl.Int64, "value": pl.String})
    )
    partners: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema={"customer_id": pl.Int64, "value": pl.String})
    )
    promoters: pl.Series = field(default_factory=lambda: pl.Series([], dtype=pl.Int64))
    thresholds: dict[tuple[str, float], float] = field(default_factory=dict)
    """(column, share) → the lowest value inside that top share of the live scored
    customers (the database computes them: store.score_reads.top_threshold)."""
    tiers: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema={"customer_id": pl.Int64, "value": pl.String})
    )

    def top_threshold(self, column: str, share: float) -> float:
        """The lowest value still inside the top `share` of scored customers."""
        try:
            return self.thresholds[(column, share)]
        except KeyError:
            raise LookupError(f"no threshold computed for the top {share} of {column}") from None


#: Held-message reasons for customers an audience cannot judge without a model value.
MISSING_REASONS = {"p_alive": "p_alive_not_computed", "clv_minor": "clv_not_computed"}


def _model_conditions(audience: Audience, facts: AudienceFacts) -> list[tuple[str, pl.Expr]]:
    """(model column, condition) for the conditions that need a model's value."""
    conditions: list[tuple[str, pl.Expr]] = []
    if audience.min_p_alive is not None:
        conditions.append(("p_alive", pl.col("p_alive") >= audience.min_p_alive))
    if audience.max_p_alive is not None:
        conditions.append(("p_alive", pl.col("p_alive") < audience.max_p_alive))
    if audience.clv_top_share is not None:
        threshold = facts.top_threshold("clv_minor", audience.clv_top_share)
        conditions.append(("clv_minor", pl.col("clv_minor") >= threshold))
    return conditions


def expression(audience: Audience, facts: AudienceFacts) -> pl.Expr:
    """True where the row matches every condition the audience sets."""
    conditions = [c for _, c in _model_conditions(audience, facts)] + _other_conditions(
        audience, facts
    )
    if not conditions:
        return pl.lit(True)
    # A null (no score) fails the condition rather than propagating.
    return reduce(lambda a, b: a & b, [c.fill_null(False) for c in conditions])


def missing_value(book: Playbook, facts: AudienceFacts) -> pl.Expr:
    """The reason (`p_alive_not_computed`, `clv_not_computed`) for a scored customer whom some
    audience would take but for an empty model value; null for everyone else."""
    reasons = []
    for audience in book.audience:
        model = _model_conditions(audience, facts)
        if not model:
            continue
        others = _other_conditions(audience, facts)
        known = [c.fill_null(True) for _, c in model] + [c.fill_null(False) for c in others]
        scored = pl.col("segment").is_not_null()
        for column, _ in model:
            reasons.append(
                pl.when(scored & pl.col(column).is_null() & reduce(lambda a, b: a & b, known))
                .then(pl.lit(MISSING_REASONS[column]))
                .otherwise(pl.lit(None, pl.String))
            )
    if not reasons:
        return pl.lit(None, pl.String)
    return pl.coalesce(reasons)


def _other_conditions(audience: Audience, facts: AudienceFacts) -> list[pl.Expr]:
    """The conditions that need no model value."""
    conditions: list[pl.Expr] = []
    if audience.segments is not None:
        conditions.append(pl.col("segment").is_in(audience.segments))
    if audience.exclude_segments is not None:
        conditions.append(~pl.col("segment").is_in(audience.exclude_segments))
    if audience.revenue_top_share is not None:
        threshold = facts.top_threshold("revenue_minor", audience.revenue_top_share)
        conditions.append(pl.col("revenue_minor") >= threshold)
    if audience.min_orders is not None:
        conditions.append(pl.col("orders") >= audience.min_orders)
    if audience.languages is not None:
        bases = [code.lower().split("-")[0] for code in audience.languages]
        base = pl.col("language").str.to_lowercase().str.replace_all("_", "-")
        conditions.append(base.str.split("-").list.first().is_in(bases))
    if audience.categories is not None:
        buyers = facts.categories.filter(pl.col("value").is_in(audience.categories))
        conditions.append(pl.col("customer_id").is_in(buyers["customer_id"].implode()))
    if audience.partners is not None:
        buyers = facts.partners.filter(pl.col("value").is_in(audience.partners))
        conditions.append(pl.col("customer_id").is_in(buyers["customer_id"].implode()))
    if audience.promoter is not None:
        is_promoter = pl.col("customer_id").is_in(facts.promoters.implode())
        conditions.append(is_promoter if audience.promoter else ~is_promoter)
    if audience.tiers is not None:
        members = facts.tiers.filter(pl.col("value").is_in(audience.tiers))
        conditions.append(pl.col("customer_id").is_in(members["customer_id"].implode()))
    return conditions


def matches(book: Playbook, facts: AudienceFacts) -> pl.Expr:
    return reduce(lambda a, b: a | b, [expression(a, facts) for a in book.audience])
