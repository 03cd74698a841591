"""The loyalty API: a member's card, a manual grant (marketer, audited), the liability."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from relmark.store.audit import entries

from ..loyalty.seed import add_customer, add_order, enable
from .conftest import Web


def test_card_grant_and_liability_over_http(web: Web) -> None:
    # given a member with 90 points earned from an order
    engine = web.shop.engine
    enable(engine)
    anna = add_customer(engine)
    add_order(engine, anna, 9000, datetime.now(UTC) - timedelta(days=3), currency="USD")
    from relmark.interact.loyalty import load_programme, run_posting

    run_posting(engine, load_programme(), datetime.now(UTC))

    # when a viewer reads the card, a viewer tries to grant, a marketer grants
    card = web.client.get(f"/api/v1/customers/{anna}/loyalty", headers=web.as_role("viewer"))
    refused = web.client.post(
        f"/api/v1/customers/{anna}/loyalty/grant",
        json={"points": 10, "reason": "x"},
        headers=web.as_role("viewer"),
    )
    granted = web.client.post(
        f"/api/v1/customers/{anna}/loyalty/grant",
        json={"points": 10, "reason": "parcel arrived late"},
        headers=web.as_role("marketer"),
    )
    too_much = web.client.post(
        f"/api/v1/customers/{anna}/loyalty/grant",
        json={"points": -1000, "reason": "test"},
        headers=web.as_role("marketer"),
    )
    no_reason = web.client.post(
        f"/api/v1/customers/{anna}/loyalty/grant",
        json={"points": 5},
        headers=web.as_role("marketer"),
    )
    missing = web.client.get("/api/v1/customers/999999/loyalty", headers=web.as_role("viewer"))
    liability = web.client.get("/api/v1/loyalty/liability", headers=web.as_role("analyst"))

    # then
    assert card.status_code == 200
    assert card.json()["balance"] == 90
    assert card.json()["entries"][0]["rule"] == "spend"
    assert refused.status_code == 403
    assert granted.status_code == 200
    assert granted.json()["balance"] == 100
    assert too_much.status_code == 409
    assert too_much.headers["content-type"] == "application/problem+json"
    assert no_reason.status_code == 422
    assert missing.status_code == 404
    assert liability.status_code == 200
    assert liability.json()["outstanding_points"] == 100
    with engine.connect() as connection:
        trail = [e for e in entries(connection, customer_id=anna) if e["action"] == "loyalty.grant"]
    assert len(trail) == 1
    assert trail[0]["actor_kind"] == "key"


def test_a_grant_in_a_store_without_the_programme_changes_nothing(web: Web) -> None:
    anna = add_customer(web.shop.engine)

    response = web.client.post(
        f"/api/v1/customers/{anna}/loyalty/grant",
        json={"points": 10, "reason": "welcome"},
        headers=web.as_role("marketer"),
    )

    assert response.status_code == 422
    assert "loyalty programme is off" in response.text
