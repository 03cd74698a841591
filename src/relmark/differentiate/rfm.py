"""RFM: recency, frequency and monetary scores 1-5, named segments, and why.

Scores are quintiles by rank (ties share a score, so 1,000 one-order customers do not land in
different bins) or fixed cut-offs. Segments come from R and FM = round((F + M) / 2) through
an explicit table, first match wins, covering all 25 cells.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from relmark.enums import RFM_SEGMENTS

#: (segment, R range, FM range), first match wins.
SEGMENT_RULES: tuple[tuple[str, tuple[int, int], tuple[int, int]], ...] = (
    ("champions", (4, 5), (4, 5)),
    ("cant_lose", (1, 2), (5, 5)),
    ("at_risk", (1, 2), (3, 4)),
    ("loyal", (3, 5), (3, 5)),
    ("new", (5, 5), (1, 1)),
    ("promising", (4, 4), (1, 1)),
    ("potential_loyalist", (4, 5), (2, 2)),
    ("need_attention", (3, 3), (2, 2)),
    ("about_to_sleep", (3, 3), (1, 1)),
    ("lost", (1, 1), (1, 1)),
    ("hibernating", (1, 2), (1, 2)),
)
SEGMENTS = tuple(rule[0] for rule in SEGMENT_RULES)
assert SEGMENTS == RFM_SEGMENTS, "enums.RFM_SEGMENTS must list the rules' segments"


def segment_of(r: int, fm: int) -> str:
    for name, (r_low, r_high), (fm_low, fm_high) in SEGMENT_RULES:
        if r_low <= r <= r_high and fm_low <= fm <= fm_high:
            return name
    raise ValueError(f"no segment for R={r}, FM={fm}")


def _quintile(column: str, higher_is_better: bool) -> pl.Expr:
    value = pl.col(column) if higher_is_better else -pl.col(column)
    rank = value.rank("min")
    return (1 + ((rank - 1) * 5 // pl.len())).clip(1, 5).cast(pl.Int8)


def _cut(column: str, cutoffs: Sequence[float], higher_is_better: bool) -> pl.Expr:
    """Score 1 + number of cut-offs passed; for recency, fewer days is better."""
    passed = pl.sum_horizontal([(pl.col(column) > c).cast(pl.Int8) for c in cutoffs])
    return (1 + passed if higher_is_better else 5 - passed).cast(pl.Int8)


def rfm_scores(
    frame: pl.DataFrame, *, cutoffs: dict[str, Sequence[float]] | None = None
) -> pl.DataFrame:
    """Add r, f, m, fm, segment and explanation to a frame with days_since_last, orders, revenue.

    `cutoffs` (four ascending values per metric) replaces quintiles with fixed boundaries.
    """
    metrics = {"r": ("days_since_last", False), "f": ("orders", True), "m": ("revenue", True)}
    scores = []
    for name, (column, better_high) in metrics.items():
        if cutoffs and column in cutoffs:
            scores.append(_cut(column, cutoffs[column], better_high).alias(name))
        else:
            scores.append(_quintile(column, better_high).alias(name))
    scored = frame.with_columns(scores).with_columns(
        ((pl.col("f") + pl.col("m") + 1) // 2).cast(pl.Int8).alias("fm")
    )
    segment = pl.lit(None, pl.String)
    for name, (r_low, r_high), (fm_low, fm_high) in reversed(SEGMENT_RULES):
        segment = (
            pl.when(
                pl.col("r").is_between(r_low, r_high) & pl.col("fm").is_between(fm_low, fm_high)
            )
            .then(pl.lit(name))
            .otherwise(segment)
        )
    return scored.with_columns(segment.alias("segment")).with_columns(_explain())


def _share_text(score: str) -> pl.Expr:
    return (
        pl.when(pl.col(score) == 5)
        .then(pl.lit("top 20%"))
        .when(pl.col(score) == 4)
        .then(pl.lit("top 40%"))
        .when(pl.col(score) == 3)
        .then(pl.lit("middle 20%"))
        .when(pl.col(score) == 2)
        .then(pl.lit("bottom 40%"))
        .otherwise(pl.lit("bottom 20%"))
    )


def _explain() -> pl.Expr:
    return pl.format(
        "R={} because the last order was {} days ago ({} for recency); F={}: {} orders ({}); "
        "M={}: {} spent ({}); so {}",
        "r",
        pl.col("days_since_last").round(0).cast(pl.Int64),
        _share_text("r"),
        "f",
        "orders",
        _share_text("f"),
        "m",
        pl.col("revenue").round(2),
        _share_text("m"),
        pl.col("segment").str.replace_all("_", " "),
    ).alias("explanation")


def migration_matrix(before: pl.DataFrame, after: pl.DataFrame) -> pl.DataFrame:
    """Customers per (segment before, segment after); customers in only one side are
    `(none)` on the other."""
    joined = (
        before.select("customer_id", pl.col("segment").alias("from"))
        .join(
            after.select("customer_id", pl.col("segment").alias("to")),
            on="customer_id",
            how="full",
            coalesce=True,
        )
        .with_columns(pl.col("from").fill_null("(none)"), pl.col("to").fill_null("(none)"))
    )
    counts = joined.group_by("from", "to").len()
    order = [*SEGMENTS, "(none)"]
    matrix = counts.pivot(on="to", index="from", values="len").fill_null(0)
    present = [c for c in order if c in matrix.columns]
    rows = pl.DataFrame({"from": [s for s in order if s in set(matrix["from"])]})
    return rows.join(matrix, on="from", how="left").select("from", *present)
