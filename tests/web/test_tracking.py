"""The Segment-compatible tracking endpoint, driven by the real Segment SDK over real HTTP."""

from __future__ import annotations

import gzip
import json

import httpx
from segment.analytics.client import Client
from sqlalchemy import text

from .conftest import Web


def count(web: Web, sql: str) -> int:
    with web.shop.engine.connect() as connection:
        return int(connection.execute(text(sql)).scalar_one())


def rows(web: Web, sql: str) -> list[tuple]:
    with web.shop.engine.connect() as connection:
        return [tuple(r) for r in connection.execute(text(sql))]


def sdk(web: Web, server: str, **options: object) -> tuple[Client, list[Exception]]:
    errors: list[Exception] = []
    client = Client(
        web.keys["ingest"],
        host=server,
        on_error=lambda error, _items: errors.append(error),
        max_retries=0,
        **options,
    )
    return client, errors


def test_the_segment_sdk_identifies_tracks_and_orders(web: Web, server: str) -> None:
    client, errors = sdk(web, server, sync_mode=True)
    client.page(anonymous_id="anon-7", name="Home")
    client.identify(
        "user-1",
        {
            "email": "Mia.Horvat@Example.si",
            "firstName": "Mia",
            "lastName": "Horvat",
            "birthday": "1991-04-12",
            "address": {"city": "Ljubljana", "country": "SI", "postalCode": "1000"},
        },
        anonymous_id="anon-7",
    )
    client.track(
        "user-1",
        "Order Completed",
        {
            "order_id": "W-77",
            "total": 42.5,
            "currency": "EUR",
            "products": [{"sku": "TEA-1", "quantity": 2, "price": 21.25}],
        },
    )
    client.track("user-1", "Order Completed", {"order_id": "W-77", "total": 42.5})  # resent
    client.track("user-1", "Order Refunded", {"order_id": "W-77"})
    client.flush()
    assert errors == []
    live = rows(
        web,
        "SELECT id, first_name, last_name, city, birthday FROM customers "
        "WHERE merged_into_id IS NULL",
    )
    assert len(live) == 1
    customer_id = live[0][0]
    assert live[0][1:4] == ("Mia", "Horvat", "Ljubljana")
    assert rows(web, "SELECT source, external_id FROM source_records ORDER BY id") == [
        ("segment-anonymous", "anon-7"),
        ("segment", "user-1"),
    ]
    assert rows(web, "SELECT customer_id, amount_minor, currency, status FROM orders") == [
        (customer_id, 4250, "EUR", "refunded")
    ]
    assert rows(web, "SELECT sku, quantity, unit_price_minor FROM order_lines") == [
        ("TEA-1", 2, 2125)
    ]
    assert count(web, "SELECT COUNT(*) FROM customer_events WHERE kind = 'tracked'") == 4


def test_batches_from_the_queue_arrive_whole(web: Web, server: str) -> None:
    client, errors = sdk(web, server, upload_size=50)
    for i in range(120):
        client.track(f"user-{i % 7}", "Product Viewed", {"sku": f"S{i}"})
    client.flush()
    client.join()
    assert errors == []
    assert count(web, "SELECT COUNT(*) FROM tracked_messages") == 120
    assert count(web, "SELECT COUNT(*) FROM customers") == 7


def post(server: str, key: str, body: bytes, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{server}/v1/batch",
        content=body,
        auth=(key, ""),
        headers={"Content-Type": "application/json", **headers},
    )


def message(i: int, **extra: object) -> dict:
    return {
        "type": "track",
        "userId": f"u{i}",
        "event": "Signed Up",
        "messageId": f"m-{i}",
        **extra,
    }


def test_duplicates_gzip_and_limits(web: Web, server: str) -> None:
    key = web.keys["ingest"]
    body = json.dumps({"batch": [message(1), message(2)]}).encode()
    assert post(server, key, body).json()["stored"] == 2
    again = post(server, key, gzip.compress(body), **{"Content-Encoding": "gzip"})
    assert again.status_code == 200
    assert again.json()["duplicates"] == 2
    huge = json.dumps({"batch": [message(3, properties={"x": "y" * 40_000})]}).encode()
    too_big = post(server, key, huge)
    assert too_big.status_code == 400
    assert "32 KB" in too_big.text
    many = json.dumps({"batch": [message(i, properties={"x": "y" * 20_000}) for i in range(30)]})
    assert post(server, key, many.encode()).status_code == 400
    assert count(web, "SELECT COUNT(*) FROM tracked_messages") == 2


def test_one_bad_message_stores_nothing_and_says_which(web: Web, server: str) -> None:
    key = web.keys["ingest"]
    body = json.dumps({"batch": [message(1), {"type": "track", "userId": "u2"}, message(3)]})
    response = post(server, key, body.encode())
    assert response.status_code == 400
    assert response.json()["errors"][0]["where"] == "batch[1]"
    assert "event name" in response.json()["errors"][0]["message"]
    assert count(web, "SELECT COUNT(*) FROM tracked_messages") == 0
    assert count(web, "SELECT COUNT(*) FROM customers") == 0


def test_alias_joins_two_profiles(web: Web, server: str) -> None:
    key = web.keys["ingest"]
    body = {
        "batch": [
            {"type": "track", "anonymousId": "visitor", "event": "Viewed", "messageId": "a"},
            {"type": "track", "userId": "member", "event": "Viewed", "messageId": "b"},
            {"type": "alias", "previousId": "visitor", "userId": "member", "messageId": "c"},
        ]
    }
    assert post(server, key, json.dumps(body).encode()).status_code == 200
    assert count(web, "SELECT COUNT(*) FROM customers WHERE merged_into_id IS NULL") == 1
    assert count(web, "SELECT COUNT(*) FROM merges WHERE kind = 'tracking'") == 1


def test_wrong_keys_are_refused(web: Web, server: str) -> None:
    body = json.dumps({"batch": [message(1)]}).encode()
    assert post(server, "nope", body).status_code == 401
    assert post(server, web.keys["admin"], body).status_code == 403
    assert count(web, "SELECT COUNT(*) FROM tracked_messages") == 0


def test_the_rudderstack_sdk_sends_gzip_and_is_understood(web: Web, server: str) -> None:
    from rudderstack.analytics.client import Client as RudderClient

    errors: list[Exception] = []
    client = RudderClient(
        web.keys["ingest"],
        host=server,
        gzip=True,
        sync_mode=True,
        max_retries=0,
        on_error=lambda error, _items: errors.append(error),
    )
    client.identify("r-1", {"email": "r1@example.com", "firstName": "Rita"})
    client.track(
        "r-1", "Order Completed", {"order_id": "R-9", "revenue": "12.30", "currency": "USD"}
    )
    client.flush()
    assert errors == []
    assert rows(web, "SELECT external_id, amount_minor, currency FROM orders") == [
        ("R-9", 1230, "USD")
    ]
    assert rows(web, "SELECT first_name FROM customers") == [("Rita",)]
