"""No transfer without consent: a webhook carries personal data only for customers whose
consent to `third_party_sharing` holds, otherwise ids only; tested with a real HTTP
receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from relmark.enums import ConsentStatus
from relmark.interact.delivery import SendOptions

from .conftest import Shop, book

AS_OF = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SMS = book("sms", purpose="service", channel="webhook", trigger={"on": "order", "delay_days": 1})


class Receiver(BaseHTTPRequestHandler):
    bodies: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802
        Receiver.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    Receiver.bodies = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook"
    finally:
        server.shutdown()


def three_buyers(shop: Shop) -> dict[str, int]:
    shop.customers(
        [
            [
                f"W{i}",
                f"w{i}@example.si",
                f"+386 31 20000{i}",
                f"Ime{i}",
                "sl",
                "SI",
                "Europe/Ljubljana",
                "",
                "",
                "yes",
            ]
            for i in range(3)
        ]
    )
    shop.products([["TEA", "Tea", "tea", ""]])
    shop.orders(
        [
            [f"O{i}", f"W{i}", "2026-05-31T09:00:00Z", "EUR", "completed", "TEA", 1, "5"]
            for i in range(3)
        ]
    )
    return {f"W{i}": shop.id_of(f"W{i}") for i in range(3)}


def sharing(relmark: Any, customer_id: int, status: ConsentStatus, channel: str) -> None:
    relmark.record_consent(
        customer_id,
        purpose="third_party_sharing",
        channel=channel,
        status=status,
        source="test",
        proof="form 12",
        wording_version="v1",
        now=AS_OF - timedelta(days=1),
    )


def test_the_webhook_carries_personal_data_only_with_consent_to_sharing(
    shop: Shop, receiver: str
) -> None:
    # given three customers: W0 consented to sharing, W1 never did, W2 consented on one
    # channel and withdrew on another
    ids = three_buyers(shop)
    relmark = shop.interaction(SMS, webhook_url=receiver, webhook_secret="s")
    sharing(relmark, ids["W0"], ConsentStatus.GRANTED, "sms")
    sharing(relmark, ids["W2"], ConsentStatus.GRANTED, "sms")
    sharing(relmark, ids["W2"], ConsentStatus.WITHDRAWN, "email")

    # when their messages go to the webhook
    relmark.plan(AS_OF, AS_OF)
    report = relmark.send(SendOptions(as_of=lambda: AS_OF + timedelta(days=1)))

    # then W0's payload has the phone, e-mail and text; the others' ids only
    assert report.sent == 3
    by_customer = {body["customer_id"]: body for body in Receiver.bodies}
    full = by_customer[ids["W0"]]
    assert full["personal_data"] is True
    assert full["to"] == {"phone": "+38631200000", "email": "w0@example.si"}
    assert "Ime0" in full["text"]
    for name in ("W1", "W2"):
        bare = by_customer[ids[name]]
        assert bare == {
            "message_id": bare["message_id"],
            "idempotency_key": bare["idempotency_key"],
            "playbook": "sms",
            "purpose": "service",
            "customer_id": ids[name],
            "personal_data": False,
        }
    raw = json.dumps(Receiver.bodies)
    for personal in ("w1@example.si", "w2@example.si", "200001", "200002", "Ime1", "Ime2"):
        assert personal not in raw
