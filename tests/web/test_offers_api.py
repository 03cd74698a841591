"""The offers API and the tracking endpoint's coupon: real HTTP through the app, real store,
both backends."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, text

from relmark.store import audit, offers
from relmark.store.models import CustomerEvent
from relmark.store.offers import OfferTerms

from .conftest import Web

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def shop_with_orders(web: Web) -> None:
    web.shop.customers(
        [
            ["C0", "ana@example.si", "", "Ana", "sl", "SI", "Europe/Ljubljana", "", "", "yes"],
            ["C1", "bor@example.si", "", "Bor", "sl", "SI", "Europe/Ljubljana", "", "", "yes"],
        ]
    )
    web.shop.products([["TEA", "Tea", "tea", ""]])
    later = (NOW + timedelta(minutes=30)).isoformat()
    web.shop.orders(
        [
            ["A1", "C0", later, "EUR", "completed", "TEA", 2, "4.20"],
            ["B1", "C1", later, "EUR", "completed", "TEA", 2, "4.20"],
        ]
    )


def grant(web: Web, customer_id: int, **terms: Any) -> str:
    with web.shop.engine.begin() as connection:
        return str(
            offers.grant(
                connection,
                customer_id=customer_id,
                terms=OfferTerms(**{"kind": "discount", "percent_off": 10, **terms}),
                expires_at=NOW + timedelta(days=30),
                now=NOW,
            )["code"]
        )


def test_redeem_needs_a_marketer_and_answers_the_redemption(web: Web) -> None:
    shop_with_orders(web)
    code = grant(web, web.shop.id_of("C0"))
    url = f"/api/v1/offers/{code.lower()}/redeem"

    assert web.client.post(url, json={"order": "A1"}).status_code == 401
    assert (
        web.client.post(url, json={"order": "A1"}, headers=web.as_role("viewer")).status_code == 403
    )
    done = web.client.post(url, json={"order": "A1"}, headers=web.as_role("marketer"))

    assert done.status_code == 200, done.text
    answer = done.json()
    assert (answer["code"], answer["uses"], answer["status"]) == (code, 1, "redeemed")
    with web.shop.engine.connect() as connection:
        [entry] = [e for e in audit.entries(connection) if e["action"] == "offer.redeem"]
    assert entry["actor_kind"] == "key"


def test_refusals_are_problems_with_the_reason_and_change_nothing(web: Web) -> None:
    shop_with_orders(web)
    code = grant(web, web.shop.id_of("C0"))
    editor = web.as_role("marketer")

    theirs = web.client.post(f"/api/v1/offers/{code}/redeem", json={"order": "B1"}, headers=editor)
    unknown = web.client.post(
        "/api/v1/offers/NOPE-ZZZZZZZZ/redeem", json={"order": "A1"}, headers=editor
    )
    no_order = web.client.post(
        f"/api/v1/offers/{code}/redeem", json={"order": "ZZ"}, headers=editor
    )
    both = web.client.post(
        f"/api/v1/offers/{code}/redeem", json={"order": "A1", "order_id": 1}, headers=editor
    )

    assert theirs.status_code == 409
    assert theirs.headers["content-type"] == "application/problem+json"
    assert theirs.json()["reason"] == "other_customer"
    assert (unknown.status_code, unknown.json()["reason"]) == (404, "unknown")
    assert no_order.status_code == 422
    assert "no order numbered 'ZZ'" in no_order.text
    assert both.status_code == 422
    with web.shop.engine.connect() as connection:
        assert offers.find(connection, code)["uses"] == 0


def test_list_and_show_for_viewers(web: Web) -> None:
    shop_with_orders(web)
    ana, bor = web.shop.id_of("C0"), web.shop.id_of("C1")
    mine = grant(web, ana)
    grant(web, bor, percent_off=None, amount_minor=500, currency="EUR")
    viewer = web.as_role("viewer")

    everything = web.client.get("/api/v1/offers", headers=viewer).json()
    anas = web.client.get(f"/api/v1/offers?customer_id={ana}", headers=viewer).json()
    one = web.client.get(f"/api/v1/offers/{mine}", headers=viewer)
    wrong = web.client.get("/api/v1/offers?status=sold", headers=viewer)

    assert everything["total"] == 2
    assert {i["value"] for i in everything["items"]} == {"10%", "500 EUR (minor units)"}
    assert [i["code"] for i in anas["items"]] == [mine]
    assert (one.status_code, one.json()["status"]) == (200, "issued")
    assert wrong.status_code == 422
    assert web.client.get("/api/v1/offers").status_code == 401


def _batch(web: Web, *messages: dict[str, Any]) -> dict[str, Any]:
    response = web.client.post(
        "/v1/batch", content=json.dumps({"batch": list(messages)}), headers=web.as_role("ingest")
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _order(number: str, coupon: str, message_id: str) -> dict[str, Any]:
    return {
        "type": "track",
        "userId": "user-1",
        "event": "Order Completed",
        "messageId": message_id,
        "timestamp": datetime.now(UTC).isoformat(),
        "properties": {"order_id": number, "total": 30, "currency": "EUR", "coupon": coupon},
    }


def test_a_tracked_order_with_a_coupon_redeems_it_and_a_refused_one_keeps_the_order(
    web: Web,
) -> None:
    # given: a tracked customer with an offer
    _batch(web, {"type": "identify", "userId": "user-1", "messageId": "m-1", "traits": {}})
    with web.shop.engine.connect() as connection:
        customer = int(
            connection.execute(
                text("SELECT customer_id FROM source_records WHERE external_id = 'user-1'")
            ).scalar_one()
        )
    code = grant(web, customer)
    # when: two orders carry the single-use code
    first = _batch(web, _order("W-1", code.lower(), "m-2"))
    second = _batch(web, _order("W-2", code, "m-3"))
    # then
    assert (first["orders"], first["coupons_redeemed"], first["coupons_refused"]) == (1, 1, 0)
    assert (second["orders"], second["coupons_redeemed"], second["coupons_refused"]) == (1, 0, 1)
    with web.shop.engine.connect() as connection:
        assert offers.find(connection, code)["status"] == "redeemed"
        refusals = connection.execute(
            select(CustomerEvent.parameters).where(CustomerEvent.kind == "offer_refused")
        ).scalars()
        orders = connection.execute(text("SELECT COUNT(*) FROM orders")).scalar_one()
    [refused] = list(refusals)
    assert refused["reason"] == "used_up"
    assert refused["code"] == code
    assert orders == 2
