"""Merges chain (A into B, then B into C): an offer, gift or points entry written for A
belongs to C, the live profile, not to B. The gift pick list and its fulfilment, the offers
export, the shop webhook's payload and the loyalty job follow the whole chain, on SQLite and
PostgreSQL."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, text
from typer.testing import CliRunner

from relmark.interact.loyalty import run_posting
from relmark.interfaces.cli import app
from relmark.store import audit, gifts, offer_webhooks
from relmark.store.offer_webhook_models import OfferWebhook

from . import offer_factory as make
from .conftest import NOW
from .loyalty.seed import add_customer, add_order, balance, enable, programme, set_status

STAFF = audit.Actor("cli", "tester")


def merge(engine: Engine, absorbed: int, survivor: int) -> None:
    """What a merge leaves in the tables the readers use: the pointer, and the orders moved."""
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE customers SET merged_into_id = :s WHERE id = :a"),
            {"s": survivor, "a": absorbed},
        )
        connection.execute(
            text("UPDATE orders SET customer_id = :s WHERE customer_id = :a"),
            {"s": survivor, "a": absorbed},
        )


def three(engine: Engine) -> tuple[int, int, int]:
    a = make.customer(engine, "A1", first_name="A", address="1 Old St", postcode="1000")
    b = make.customer(engine, "B1", first_name="B", address="5 Mid St", postcode="1500")
    c = make.customer(
        engine, "C1", first_name="C", email="c@example.si", address="9 New St", postcode="2000"
    )
    return a, b, c


def test_a_gift_promised_to_a_twice_merged_profile_ships_to_the_live_one(engine: Engine) -> None:
    a, b, c = three(engine)
    make.offer(engine, a, "GIFT-AAAA2222", kind="gift", percent_off=None, gift="tote-bag")
    merge(engine, a, b)
    merge(engine, b, c)
    order = make.order(engine, c, "ORD-9", make.T0 + timedelta(days=2), 5000)

    with engine.begin() as connection:
        total, due = gifts.pick_list(connection, due_only=True)
        done = gifts.fulfil(connection, "GIFT-AAAA2222", "ORD-9", NOW, STAFF)

    assert total == 1
    assert (due[0]["customer_id"], due[0]["address"], due[0]["next_order"]) == (
        c,
        "9 New St",
        "ORD-9",
    )
    assert done["order_id"] == order


def test_the_offers_export_and_the_webhook_name_the_live_profile(
    engine: Engine, tmp_path: Path
) -> None:
    a, b, c = three(engine)
    offer = make.offer(engine, a, "BACK-AAAA2222")
    make.share(engine, c)
    merge(engine, a, b)
    merge(engine, b, c)
    target = tmp_path / "offers.csv"
    url = engine.url.render_as_string(hide_password=False)

    result = CliRunner().invoke(app, ["offers", "export", "--out", str(target), "--db", url])
    with engine.begin() as connection:
        event = connection.execute(
            OfferWebhook.__table__.insert()
            .values(
                offer_id=offer,
                event="offer.issued",
                status="pending",
                attempts=0,
                created_at=NOW,
                next_attempt_at=NOW,
            )
            .returning(OfferWebhook.__table__.c.id)
        ).scalar_one()
        data = offer_webhooks.event_data(connection, event)

    assert result.exit_code == 0, result.output
    with target.open(encoding="utf-8") as handle:
        (row,) = list(csv.DictReader(handle))
    assert (row["customer_id"], row["email"]) == (str(c), "c@example.si")
    assert data["customer_id"] == c
    assert data["external_ids"] == [{"source": "default", "external_id": "C1"}]


def test_points_of_a_twice_merged_profile_move_to_and_are_reversed_from_the_live_one(
    engine: Engine,
) -> None:
    # given A earned 70 points for an order, then A merged into B and B into C
    enable(engine)
    a, b, c = add_customer(engine), add_customer(engine), add_customer(engine)
    order = add_order(engine, a, 7000, NOW - timedelta(days=3))
    run_posting(engine, programme(), NOW)
    merge(engine, a, b)
    merge(engine, b, c)

    # when the job runs once, then the order is refunded and it runs again
    moved = run_posting(engine, programme(), NOW)
    after_move = [balance(engine, x) for x in (a, b, c)]
    set_status(engine, order, "refunded")
    taken = run_posting(engine, programme(), NOW)

    # then the points went straight to C, and the refund took them back from C
    assert moved.carried_from_merged == 70
    assert after_move == [(0, 0), (0, 0), (70, 70)]
    assert (taken.points_reversed, taken.points_short) == (70, 0)
    assert [balance(engine, x) for x in (a, b, c)] == [(0, 0), (0, 0), (0, 0)]
