"""A tracked order by an address the store knows plans for the known customer: the tracking
endpoint matches the request's new records by exact keys before it answers (issue 13)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from relmark.pipeline import identify

from ..interact.conftest import book
from .conftest import Web


def ids(web: Web, sql: str) -> list[tuple]:
    with web.shop.engine.connect() as connection:
        return [tuple(r) for r in connection.execute(text(sql))]


def test_a_tracked_order_by_a_known_email_lands_on_the_known_customer(web: Web) -> None:
    web.shop.customers([["C1", "mia@example.si", "", "Mia", "sl", "SI", "", "", "", "yes"]])
    identify(web.shop.engine, now=datetime.now(UTC))  # every import ends with it
    known = web.shop.id_of("C1")
    moment = datetime.now(UTC).replace(microsecond=0)
    ordered = moment.isoformat()
    body = {
        "batch": [
            {
                "type": "identify",
                "anonymousId": "new-visitor",
                "messageId": "i1",
                "traits": {"email": "MIA@example.si"},
            },
            {
                "type": "track",
                "anonymousId": "new-visitor",
                "event": "Order Completed",
                "messageId": "t1",
                "timestamp": ordered,
                "properties": {"order_id": "W-9", "total": 12.5, "currency": "EUR"},
            },
        ]
    }
    response = web.client.post("/v1/batch", content=json.dumps(body), headers=web.as_role("ingest"))
    assert response.status_code == 200, response.text

    assert ids(web, "SELECT customer_id FROM orders WHERE external_id = 'W-9'") == [(known,)]
    assert ids(web, "SELECT COUNT(*) FROM customers WHERE merged_into_id IS NULL") == [(1,)]
    visitor = web.shop.id_of("new-visitor")
    assert visitor == known  # the visitor's record moved to the known profile

    as_of = moment + timedelta(days=3, hours=1)
    web.shop.interaction(book("thanks")).plan(as_of, as_of)
    planned = web.shop.messages("playbook = 'thanks'")
    assert [(m["customer_id"], m["status"], m["occasion"]) for m in planned] == [
        (known, "planned", f"order:{ids(web, 'SELECT id FROM orders')[0][0]}")
    ]


def test_concurrent_requests_for_one_person_all_land_on_it(web: Web, server: str) -> None:
    """Eight visitors' identify + order at once, over real HTTP: no deadlock, no profile
    folded twice, every order on the known customer."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    web.shop.customers([["C1", "mia@example.si", "", "Mia", "sl", "SI", "", "", "", "yes"]])
    identify(web.shop.engine, now=datetime.now(UTC))
    known = web.shop.id_of("C1")

    def post(i: int) -> int:
        body = {
            "batch": [
                {
                    "type": "identify",
                    "anonymousId": f"v{i}",
                    "messageId": f"i{i}",
                    "traits": {"email": "mia@example.si", "phone": "+386 31 100 200"},
                },
                {
                    "type": "track",
                    "anonymousId": f"v{i}",
                    "event": "Order Completed",
                    "messageId": f"t{i}",
                    "properties": {"order_id": f"W-{i}", "total": 5},
                },
            ]
        }
        headers = {**web.as_role("ingest"), "Content-Type": "application/json"}
        response = httpx.post(
            f"{server}/v1/batch", content=json.dumps(body), headers=headers, timeout=60
        )
        return response.status_code

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(post, range(8))) == [200] * 8

    assert ids(web, "SELECT DISTINCT customer_id FROM orders") == [(known,)]
    assert ids(web, "SELECT COUNT(*) FROM customers WHERE merged_into_id IS NULL") == [(1,)]
    assert ids(web, "SELECT COUNT(*), COUNT(DISTINCT absorbed_id) FROM merges") == [(8, 8)]
