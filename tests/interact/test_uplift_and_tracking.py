"""Uplift statistics on data with a known effect, and link tracking (opens, clicks, ratings)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from relmark.interact.tokens import InvalidToken, LinkClaim, LinkKind, Signer
from relmark.interact.uplift import outcomes, summarise

from .conftest import SECRET, Shop, book

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
UTC_US = pl.Datetime("us", "UTC")


def synthetic(
    n: int, p_treated: float, p_control: float, seed: int = 3
) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    group = np.where(rng.random(n) < 0.5, "treated", "control")
    converts = rng.random(n) < np.where(group == "treated", p_treated, p_control)
    messages = pl.DataFrame(
        {
            "message_id": np.arange(n),
            "playbook": "winback",
            "group": group,
            "customer_id": np.arange(n),
            "due_at": [T0] * n,
        },
        schema_overrides={"due_at": UTC_US},
    )
    buyers = np.flatnonzero(converts)
    orders = pl.DataFrame(
        {
            "customer_id": buyers,
            "ordered_at": [T0 + timedelta(days=3)] * len(buyers),
            "amount_minor": 5000,
            "currency": "EUR",
        },
        schema_overrides={"ordered_at": UTC_US},
    )
    late = pl.DataFrame(  # outside the 7-day window: must not count
        {
            "customer_id": [0],
            "ordered_at": [T0 + timedelta(days=9)],
            "amount_minor": [99999],
            "currency": ["EUR"],
        },
        schema_overrides={"ordered_at": UTC_US},
    )
    return messages, pl.concat([orders, late], how="vertical_relaxed")


def test_uplift_recovers_a_known_effect() -> None:
    messages, orders = synthetic(20_000, 0.12, 0.08)
    [row] = summarise(outcomes(messages, orders, 7), 100)
    assert row["treated"] + row["control"] == 20_000
    low, high = row["conversion_uplift_ci95"]
    assert high - low < 0.02
    se = ((0.12 * 0.88 + 0.08 * 0.92) / 10_000) ** 0.5
    assert row["conversion_uplift"] == pytest.approx(0.04, abs=4 * se)
    assert row["revenue_uplift"] == pytest.approx(row["conversion_uplift"] * 50, rel=1e-9)
    assert row["conversion_control"] == pytest.approx(0.08, abs=0.012)


def test_the_95_percent_intervals_cover_the_truth_about_95_percent_of_the_time() -> None:
    covered = revenue_covered = 0
    runs = 300
    for seed in range(runs):
        messages, orders = synthetic(1_000, 0.15, 0.10, seed=seed)
        [row] = summarise(outcomes(messages, orders, 7), 100)
        low, high = row["conversion_uplift_ci95"]
        covered += low <= 0.05 <= high
        r_low, r_high = row["revenue_uplift_ci95"]
        revenue_covered += r_low <= 0.05 * 50 <= r_high
    assert 0.91 <= covered / runs <= 0.99
    assert 0.91 <= revenue_covered / runs <= 0.99


def test_no_effect_gives_an_interval_around_zero() -> None:
    messages, orders = synthetic(20_000, 0.1, 0.1, seed=11)
    [row] = summarise(outcomes(messages, orders, 7), 100)
    low, high = row["conversion_uplift_ci95"]
    assert low < 0 < high


def test_a_missing_group_gives_no_interval() -> None:
    messages, orders = synthetic(100, 0.1, 0.1)
    only_treated = messages.with_columns(pl.lit("treated").alias("group"))
    [row] = summarise(outcomes(only_treated, orders, 7), 100)
    assert row["control"] == 0
    assert row["conversion_uplift"] is None


def test_opens_clicks_and_ratings_are_recorded_and_ratings_make_promoters(shop: Shop) -> None:
    shop.customers([["C1", "a@example.com", "", "Ana", "en", "GB", "UTC", "", "", "yes"]])
    shop.products([["TEA", "Tea", "tea", ""]])
    shop.orders([["O1", "C1", "2026-05-31T10:00:00Z", "EUR", "completed", "TEA", 1, "5"]])
    check = book(
        "check",
        purpose="service",
        template="satisfaction",
        trigger={"on": "order", "delay_days": 1},
    )
    relmark = shop.interaction(check)
    relmark.plan(T0, T0)
    [message] = shop.messages()
    signer = Signer(SECRET)
    ids = (message["id"], message["customer_id"], "service")
    relmark.track(LinkKind.OPEN, signer.sign(LinkClaim(LinkKind.OPEN, *ids)), T0)
    click = relmark.track(
        LinkKind.CLICK, signer.sign(LinkClaim(LinkKind.CLICK, *ids, url="https://x.example/a")), T0
    )
    relmark.track(LinkKind.RATING, signer.sign(LinkClaim(LinkKind.RATING, *ids, score=10)), T0)
    assert click.url == "https://x.example/a"
    with pytest.raises(InvalidToken):
        relmark.track(LinkKind.CLICK, "forged.token", T0)
    with shop.engine.connect() as connection:
        kinds = [
            r[0]
            for r in connection.exec_driver_sql("SELECT kind FROM message_events ORDER BY id").all()
        ]
        from relmark.store.outbox import promoters

        assert promoters(connection).to_list() == [message["customer_id"]]
    assert kinds == ["open", "click", "rating"]
