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
