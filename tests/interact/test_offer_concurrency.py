"""Concurrent checkouts redeeming one code: exactly as many win as the code has uses, each
on its own connection and thread, started together (the claim that matters on PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from relmark.store import offer_redemption, offers
from relmark.store.offer_redemption import OfferRefused, Refusal
from relmark.store.offers import OfferTerms

from .conftest import Shop

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
THREADS = 10


def _shop_with_orders(shop: Shop) -> list[int]:
    shop.customers(
        [["C0", "ana@example.si", "", "Ana", "sl", "SI", "Europe/Ljubljana", "", "", "yes"]]
    )
    shop.products([["TEA", "Tea", "tea", ""]])
    shop.orders(
        [
            [f"A{i}", "C0", "2026-06-05T09:00:00Z", "EUR", "completed", "TEA", 1, "4.20"]
            for i in range(THREADS)
        ]
    )
    with shop.engine.connect() as connection:
        return [int(r[0]) for r in connection.execute(text("SELECT id FROM orders ORDER BY id"))]


@pytest.mark.parametrize("max_uses", [1, 3])
def test_concurrent_redemptions_win_exactly_max_uses(shop: Shop, max_uses: int) -> None:
    # given
    order_ids = _shop_with_orders(shop)
    with shop.engine.begin() as connection:
        code = offers.grant(
            connection,
            customer_id=shop.id_of("C0"),
            terms=OfferTerms(kind="discount", percent_off=10, max_uses=max_uses),
            expires_at=NOW + timedelta(days=30),
            now=NOW,
        )["code"]
    start = threading.Barrier(THREADS)
    won: list[int] = []
    refused: list[Refusal] = []
    errors: list[BaseException] = []

    def checkout(order_id: int) -> None:
        try:
            with shop.engine.connect() as connection:
                connection.execute(text("SELECT 1"))  # the connection is open before the race
                connection.rollback()
                start.wait(timeout=30)
                with connection.begin():
                    offer_redemption.redeem(connection, code, order_id, NOW)
            won.append(order_id)
        except OfferRefused as exc:
            refused.append(exc.reason)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    # when
    threads = [threading.Thread(target=checkout, args=(o,)) for o in order_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then
    assert errors == []
    assert len(won) == max_uses
    assert refused == [Refusal.USED_UP] * (THREADS - max_uses)
    with shop.engine.connect() as connection:
        row = offers.find(connection, code)
        used = offers.redemptions(connection, int(row["id"]))
    assert (row["uses"], row["status"]) == (max_uses, "redeemed")
    assert sorted(u["order_id"] for u in used) == sorted(won)
