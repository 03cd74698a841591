"""CLV, RFM segments and profitability: checked against hand computations and identities."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from relmark.differentiate.clv import PERIODS_PER_MONTH, ValueSettings, score_customers
from relmark.differentiate.models import BetaGeo, GammaGamma, ParetoNBD
from relmark.differentiate.profitability import CostModel, customer_profit, whale_curve
from relmark.differentiate.rfm import SEGMENTS, migration_matrix, rfm_scores, segment_of

BGNBD = BetaGeo.with_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
SPEND = GammaGamma.with_params(p=6.25, q=3.74, gamma=15.44)
SUMMARY = pl.DataFrame(
    {
        "customer_id": [1, 2, 3, 4, 5],
        "frequency": [0, 2, 2, 7, 2],
        "recency": [0.0, 30.43, 30.43, 35.0, 30.43],
        "T": [38.86, 38.86, 38.86, 38.86, 38.86],
        "monetary_value": [0.0, 35.0, 35.0, 60.0, 35.0],
    }
)


def test_undiscounted_clv_is_expected_purchases_times_spend() -> None:
    settings = ValueSettings(horizon_months=12, discount_rate=0.0, margin=1.0)

    scores = score_customers(BGNBD, SPEND, SUMMARY, settings)

    x, tx, T, m = (
        SUMMARY[c].to_numpy().astype(float) for c in ("frequency", "recency", "T", "monetary_value")
    )
    expected = BGNBD.expected_purchases(
        12 * PERIODS_PER_MONTH["week"], x, tx, T
    ) * SPEND.expected_spend(x, m)
    np.testing.assert_allclose(scores["clv"].to_numpy(), expected, rtol=1e-12)
    assert scores["customer_id"].to_list() == [1, 2, 3, 4, 5]


def test_discount_margin_and_horizon_move_clv_the_right_way() -> None:
    base = score_customers(BGNBD, SPEND, SUMMARY, ValueSettings(discount_rate=0.0))["clv"]
    discounted = score_customers(BGNBD, SPEND, SUMMARY, ValueSettings(discount_rate=0.2))["clv"]
    half = score_customers(BGNBD, SPEND, SUMMARY, ValueSettings(margin=0.5, discount_rate=0.0))[
        "clv"
    ]
    longer = score_customers(BGNBD, SPEND, SUMMARY, ValueSettings(horizon_months=24))["clv"]

    assert (discounted < base).all()
    np.testing.assert_allclose(half.to_numpy(), base.to_numpy() / 2)
    assert (longer > base).all()


def test_intervals_bracket_the_estimate_and_are_reproducible(cdnow) -> None:
    x, tx, T = (cdnow[c].to_numpy().astype(float) for c in ("frequency", "recency", "T"))
    model = ParetoNBD()
    model.fit(x, tx, T)
    spend = GammaGamma()
    spend.fit(cdnow["frequency"].to_numpy(), cdnow["monetary_value"].to_numpy())

    first = score_customers(model, spend, cdnow.head(300), ValueSettings(), draws=60, seed=5)
    again = score_customers(model, spend, cdnow.head(300), ValueSettings(), draws=60, seed=5)

    assert first["clv_p10"].equals(again["clv_p10"])
    inside = (first["clv_p10"] <= first["clv"]) & (first["clv"] <= first["clv_p90"])
    assert inside.mean() > 0.95
    assert (first["clv_p90"] > first["clv_p10"]).all()


def test_every_rfm_cell_has_a_segment_and_every_segment_a_cell() -> None:
    cells = {segment_of(r, fm) for r in range(1, 6) for fm in range(1, 6)}

    assert cells == set(SEGMENTS)
    assert segment_of(5, 5) == "champions"
    assert segment_of(1, 5) == "cant_lose"
    assert segment_of(5, 1) == "new"
    assert segment_of(1, 1) == "lost"


def test_quintiles_share_scores_on_ties_and_reward_recent_customers() -> None:
    frame = pl.DataFrame(
        {
            "customer_id": list(range(10)),
            "days_since_last": [1, 5, 10, 20, 40, 80, 160, 320, 640, 900],
            "orders": [1, 1, 1, 1, 1, 2, 3, 5, 8, 13],
            "revenue": [10.0, 20, 30, 40, 50, 60, 70, 80, 90, 100],
        }
    )

    scored = rfm_scores(frame)

    assert scored["r"].to_list() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert scored["f"].to_list() == [1, 1, 1, 1, 1, 3, 4, 4, 5, 5]
    assert scored["m"].to_list() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert scored["segment"][0] == "new"
    assert scored["segment"][9] == "cant_lose"
    assert scored["explanation"][0].startswith(
        "R=5 because the last order was 1 days ago (top 20% for recency); F=1: 1 orders"
    )


def test_fixed_cutoffs_replace_quintiles() -> None:
    frame = pl.DataFrame(
        {
            "customer_id": [1, 2],
            "days_since_last": [10, 400],
            "orders": [12, 1],
            "revenue": [900.0, 15.0],
        }
    )
    cutoffs = {
        "days_since_last": [30, 90, 180, 365],
        "orders": [1, 2, 4, 8],
        "revenue": [50, 100, 250, 500],
    }

    scored = rfm_scores(frame, cutoffs=cutoffs)

    assert scored.select("r", "f", "m").rows() == [(5, 5, 5), (1, 1, 1)]
    assert scored["segment"].to_list() == ["champions", "lost"]


def test_migration_matrix_counts_moves() -> None:
    before = pl.DataFrame({"customer_id": [1, 2, 3], "segment": ["loyal", "loyal", "new"]})
    after = pl.DataFrame({"customer_id": [1, 2, 4], "segment": ["at_risk", "loyal", "new"]})

    matrix = migration_matrix(before, after)

    rows = {r["from"]: r for r in matrix.iter_rows(named=True)}
    assert rows["loyal"]["at_risk"] == 1
    assert rows["loyal"]["loyal"] == 1
    assert rows["new"]["(none)"] == 1
    assert rows["(none)"]["new"] == 1


def test_profit_after_cost_to_serve_by_hand() -> None:
    orders = pl.DataFrame(
        {
            "customer_id": [1, 1, 2, 2],
            "amount": [100.0, 50.0, 80.0, 40.0],
            "discount": [10.0, 0.0, 0.0, 0.0],
            "cost": [60.0, None, None, None],
            "status": ["completed", "completed", "completed", "returned"],
        }
    )
    contacts = pl.DataFrame({"customer_id": [2, 2], "minutes": [10, 5]})
    costs = CostModel(
        default_margin_rate=0.4,
        support_contact=2.0,
        support_minute=1.0,
        marketing_contact=0.0,
        shipping_per_order=5.0,
        standard=10.0,
    )

    profits = customer_profit(orders, contacts, costs)

    one, two = profits.iter_rows(named=True)
    # customer 1: margin 40 + 50*0.4 = 60; shipping 2*5 = 10 -> 50
    assert one["gross_margin"] == pytest.approx(60.0)
    assert one["profit"] == pytest.approx(50.0)
    # customer 2: margin 80*0.4 = 32; return 40*0.4 = 16; support 2*2 + 15 = 19; shipping 10
    assert two["profit"] == pytest.approx(32 - 16 - 19 - 10)
    assert (one["below_standard"], two["below_standard"]) == (False, True)
    assert (one["profit_tier"], two["profit_tier"]) == ("B", "D")


def test_tiers_and_the_whale_curve() -> None:
    profits = pl.DataFrame(
        {"customer_id": range(10), "profit": [100.0, 80, 60, 40, 20, 10, 5, 0, -20, -60]}
    )
    from relmark.differentiate.profitability import _tier

    tiers = profits.with_columns(_tier().alias("tier"))["tier"].to_list()
    curve = whale_curve(profits, points=10)

    assert tiers == ["A", "A", "B", "B", "B", "C", "C", "C", "D", "D"]
    assert curve["profit_share"].max() > 1.0  # the hump: the last customers destroy value
    assert curve["profit_share"][-1] == pytest.approx(1.0)
    assert curve["customer_share"][-1] == pytest.approx(1.0)
