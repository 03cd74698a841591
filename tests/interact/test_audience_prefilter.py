"""The database's audience prefilter only saves reading: a plan decides exactly what it
decides when every scored customer is read and audience.py alone judges."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest
from sqlalchemy import text, true

from relmark.enums import RFM_SEGMENTS
from relmark.interact import audience_sql
from relmark.store import outbox

from .conftest import Shop, book, scores

AS_OF = datetime(2026, 6, 2, 9, 0, tzinfo=UTC)
LANGUAGES = ["en-GB", "ms", "kk-KZ", "tl", "uk", "sl-SI"]


def _audience(rng: random.Random) -> dict[str, Any]:
    pick: dict[str, Any] = {}
    options = {
        "segments": lambda: rng.sample(list(RFM_SEGMENTS), rng.randint(1, 4)),
        "exclude_segments": lambda: rng.sample(list(RFM_SEGMENTS), rng.randint(1, 3)),
        "min_p_alive": lambda: round(rng.uniform(0, 0.5), 2),
        "max_p_alive": lambda: round(rng.uniform(0.5, 1), 2),
        "clv_top_share": lambda: rng.choice([0.1, 0.3, 0.5, 1.0]),
        "revenue_top_share": lambda: rng.choice([0.1, 0.3, 0.7]),
        "min_orders": lambda: rng.randint(1, 4),
        "languages": lambda: rng.sample(["en", "ms", "kk", "tl", "uk", "sl"], 2),
        "promoter": lambda: rng.random() < 0.5,
    }
    scored = ["segments", "exclude_segments", "min_p_alive", "max_p_alive", "clv_top_share"]
    scored += ["revenue_top_share", "min_orders"]
    first = rng.choice(scored)  # a score trigger's audience needs one score condition
    pick[first] = options[first]()
    for name in rng.sample([n for n in options if n != first], rng.randint(0, 3)):
        pick[name] = options[name]()
    return pick


def _store(shop: Shop, rng: random.Random, n: int) -> list[int]:
    shop.customers(
        [
            [f"C{i}", f"c{i}@example.com", "", f"N{i}", rng.choice(LANGUAGES), "SI"]
            + ["Europe/Ljubljana", "", "", rng.choice(["yes", "yes", "withdrawn", ""])]
            for i in range(n)
        ]
    )
    ids = [shop.id_of(f"C{i}") for i in range(n)]
    values: dict[int, dict[str, Any]] = {}
    for customer in ids:
        values[customer] = {
            "segment": rng.choice(list(RFM_SEGMENTS)),
            "p_alive": None if rng.random() < 0.15 else round(rng.random(), 3),
            "clv_minor": None if rng.random() < 0.15 else rng.randint(0, 50_000),
            "revenue_minor": rng.choice([0, 500, 500, rng.randint(0, 90_000)]),
            "orders": rng.randint(1, 6),
        }
    scores(shop.engine, values, AS_OF)
    with shop.engine.begin() as connection:  # a merged profile and a restricted one
        connection.execute(
            text("UPDATE customers SET merged_into_id = :a WHERE id = :b"),
            {"a": ids[0], "b": ids[1]},
        )
        connection.execute(
            text("UPDATE customers SET restricted_at = updated_at WHERE id = :c"), {"c": ids[2]}
        )
    return ids


def _decisions(shop: Shop, books: list[str]) -> pl.DataFrame:
    result = shop.interaction(*books, offers_on=True).plan(AS_OF, AS_OF, write=False)
    return result.decided.select("idempotency_key", "status", "reason").sort("idempotency_key")


@pytest.mark.parametrize("seed", range(6))
def test_a_plan_decides_the_same_with_and_without_the_prefilter(
    shop: Shop, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(seed)
    ids = _store(shop, rng, 30)
    promoters = pl.Series("customer_id", rng.sample(ids, 8), dtype=pl.Int64)
    monkeypatch.setattr(outbox, "promoters", lambda connection, staged=False: promoters)
    books = [
        book(f"b{i}", trigger={"on": "score"}, repeat_after_days=30)
        .replace("[audience]", "[[audience]]")
        .rstrip()
        + "\n"
        + "".join(
            "[[audience]]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in _audience(rng).items())
            for _ in range(rng.randint(1, 2))
        )
        for i in range(4)
    ]
    filtered = _decisions(shop, books)
    monkeypatch.setattr(audience_sql, "could_match", lambda *args: true())
    everyone = _decisions(shop, books)
    assert filtered.height > 0 or everyone.height == 0
    assert filtered.to_dicts() == everyone.to_dicts()


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(f'"{v}"' for v in value) + "]"
    return str(value)
