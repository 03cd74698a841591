"""Planned ahead, held if the order is gone: the engine decides a new order's thank-you at
once, due days later; an order cancelled meanwhile gets no thank-you."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from relmark.interact.delivery import SendOptions

from .conftest import Inbox, Shop, book
from .test_delivery import customers

ORDERED = datetime(2026, 5, 31, 9, 0, tzinfo=UTC)
THANKS = book("thanks", purpose="service", trigger={"on": "order", "delay_days": 3})


def test_a_thank_you_planned_ahead_is_held_when_its_order_is_cancelled(
    shop: Shop, inbox: tuple[Inbox, int]
) -> None:
    server, port = inbox
    customers(shop, 2)
    relmark = shop.interaction(THANKS, smtp_host="127.0.0.1", smtp_port=port)
    arrival = ORDERED + timedelta(minutes=5)

    result = relmark.plan(arrival, arrival, ahead=timedelta(days=3))
    assert result.planned == 2  # decided on arrival, not three days later
    with shop.engine.begin() as connection:
        connection.execute(text("UPDATE orders SET status = 'cancelled' WHERE external_id='O1'"))

    due = ORDERED + timedelta(days=3, hours=2)
    report = relmark.send(SendOptions(as_of=lambda: due))

    assert report.sent == 1
    assert len(server.messages) == 1
    rows = {m["customer_id"]: m for m in shop.messages()}
    held = [m for m in rows.values() if m["status"] == "held"]
    assert [m["reason"] for m in held] == ["order_not_completed"]


def test_only_a_partial_refund_still_gets_its_thank_you(
    shop: Shop, inbox: tuple[Inbox, int]
) -> None:
    server, port = inbox
    customers(shop, 5)
    relmark = shop.interaction(THANKS, smtp_host="127.0.0.1", smtp_port=port)
    arrival = ORDERED + timedelta(minutes=5)
    assert relmark.plan(arrival, arrival, ahead=timedelta(days=3)).planned == 5
    changes = {"O0": "partially_refunded", "O1": "refunded", "O2": "returned", "O3": "pending"}
    with shop.engine.begin() as connection:
        for order, status in changes.items():
            connection.execute(
                text("UPDATE orders SET status = :s WHERE external_id = :o"),
                {"s": status, "o": order},
            )

    report = relmark.send(SendOptions(as_of=lambda: ORDERED + timedelta(days=3, hours=2)))

    assert (report.sent, len(server.messages)) == (2, 2)  # O0 (partially refunded) and O4
    outcome = {m["customer_id"]: (m["status"], m["reason"]) for m in shop.messages()}
    assert outcome[shop.id_of("C0")] == ("sent", None)
    assert outcome[shop.id_of("C4")] == ("sent", None)
    for external in ("C1", "C2", "C3"):
        assert outcome[shop.id_of(external)] == ("held", "order_not_completed")


def test_a_partially_refunded_order_is_planned_like_a_completed_one(shop: Shop) -> None:
    customers(shop, 2)
    with shop.engine.begin() as connection:
        connection.execute(text("UPDATE orders SET status = 'partially_refunded'"))
    relmark = shop.interaction(THANKS)
    due = ORDERED + timedelta(days=3, hours=1)

    result = relmark.plan(due, due)

    assert result.planned == 2
    assert {m["occasion"] for m in shop.messages()} == {f"order:{n}" for n in _order_ids(shop)}


def _order_ids(shop: Shop) -> list[int]:
    with shop.engine.connect() as connection:
        return [int(i) for i in connection.execute(text("SELECT id FROM orders")).scalars()]
