"""An arrival plan (a few customers) reads only those customers and decides for them exactly
what a whole-store plan decides for them: random small stores, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl
import pytest

from relmark.store import candidate_reads

from .conftest import Shop, book, scores

AS_OF = datetime(2026, 9, 15, 12, 0, tzinfo=UTC)
ZONES = ["Europe/Ljubljana", "Asia/Almaty", "America/Los_Angeles", "Pacific/Kiritimati", ""]
STATUSES = ["completed", "completed", "partially_refunded", "cancelled", "pending"]
BOOKS = [
    book("thanks", purpose="service", trigger={"on": "order", "delay_days": 3, "late_until": 7}),
    book(
        "check",
        purpose="service",
        template="satisfaction",
        trigger={"on": "order", "delay_days": 7},
    ),
    book(
        "howto",
        purpose="service",
        template="howto",
        trigger={"on": "first_purchase_with_howto", "delay_days": 1},
    ),
    book("bday", purpose="service", template="anniversary", trigger={"on": "birthday"}),
    book("anniv", purpose="service", template="anniversary", trigger={"on": "anniversary"}),
    book(
        "vip",
        purpose="service",
        template="anniversary",
        repeat_after_days=30,
        trigger={"on": "score"},
        audience={"revenue_top_share": 0.3, "min_p_alive": 0.2},
    ),
]
COMPARED = ["idempotency_key", "status", "reason", "due_at", "expires_at", "detail"]


def random_shop(shop: Shop, seed: int, n: int = 40) -> list[int]:
    """Customers with random zones and dates, random orders of the last weeks, scores."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        birthday = AS_OF.date() + timedelta(days=int(rng.integers(-6, 3)))
        since = AS_OF.date() + timedelta(days=int(rng.integers(-6, 3)))
        rows.append(
            [
                f"C{i}",
                f"c{i}@example.si",
                "",
                f"Ime{i}",
                "sl",
                "SI",
                ZONES[int(rng.integers(len(ZONES)))],
                birthday.replace(year=1980 + i % 30).isoformat(),
                since.replace(year=2019 + i % 5).isoformat(),
                "yes" if rng.random() < 0.9 else "no",
            ]
        )
    shop.customers(rows)
    shop.products([["TEA", "Tea", "tea", "https://v.example/tea"], ["MUG", "Mug", "mug", ""]])
    orders = []
    for number in range(2 * n):
        at = AS_OF - timedelta(hours=float(rng.uniform(0, 24 * 16)))
        orders.append(
            [
                f"O{number}",
                f"C{int(rng.integers(n))}",
                at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "EUR",
                STATUSES[int(rng.integers(len(STATUSES)))],
                "TEA" if rng.random() < 0.5 else "MUG",
                1,
                "9.50",
            ]
        )
    shop.orders(orders)
    ids = sorted({shop.id_of(f"C{i}") for i in range(n)})
    values = {
        c: {"revenue_minor": int(rng.integers(100, 100_000)), "p_alive": float(rng.random())}
        for c in ids
    }
    scores(shop.engine, values, AS_OF - timedelta(days=1))
    return ids


def decisions(result: Any, customers: list[int]) -> pl.DataFrame:
    frame = result.decided.filter(pl.col("customer_id").is_in(customers))
    return frame.select(COMPARED).sort("idempotency_key")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_an_arrival_plan_decides_what_the_whole_plan_decides_for_its_customers(
    shop: Shop, seed: int
) -> None:
    ids = random_shop(shop, seed)
    relmark = shop.interaction(*BOOKS)
    earlier = AS_OF - timedelta(days=5)
    relmark.plan(earlier, earlier)  # a history: a gap to catch up, caps that count
    rng = np.random.default_rng(seed + 100)
    chosen = sorted(int(c) for c in rng.choice(ids, size=8, replace=False))
    ahead = timedelta(days=7)

    whole = relmark.plan(AS_OF, AS_OF, write=False, ahead=ahead)
    arrival = relmark.plan(AS_OF, AS_OF, write=False, ahead=ahead, only_customers=chosen)

    expected = decisions(whole, chosen)
    assert expected.height > 0
    assert set(expected["idempotency_key"].str.split(":").list.first()) > {"thanks"}
    assert decisions(arrival, chosen).equals(expected)
    assert set(arrival.decided["customer_id"]) <= set(chosen)


def test_an_arrival_plan_reads_rows_of_its_customers_only(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = random_shop(shop, 7, n=150)
    relmark = shop.interaction(*BOOKS)
    fetched: list[int] = []
    real = candidate_reads.fetch_frame

    def counting(*args: Any, **kwargs: Any) -> pl.DataFrame:
        frame = real(*args, **kwargs)
        fetched.append(frame.height)
        return frame

    monkeypatch.setattr(candidate_reads, "fetch_frame", counting)
    relmark.plan(AS_OF, AS_OF, write=False, ahead=timedelta(days=7))
    whole = sum(fetched)
    fetched.clear()

    relmark.plan(AS_OF, AS_OF, write=False, ahead=timedelta(days=7), only_customers=ids[:2])

    assert whole >= 150  # every customer's score at least
    # two customers: their score rows, their orders (about 2 each), their dates
    assert 0 < sum(fetched) <= 20
