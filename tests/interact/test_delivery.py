"""Delivery through a real SMTP server (aiosmtpd) and a real HTTP server (webhooks)."""

from __future__ import annotations

import email
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from email import policy
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from relmark.enums import ConsentStatus
from relmark.interact.delivery import SendOptions

from .conftest import SECRET, Inbox, Shop, book

AS_OF = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PROMO = book(
    "promo",
    template="winback",
    offer={"discount_percent": 10, "code_prefix": "P"},
    trigger={"on": "order", "delay_days": 1},
)
THANKS = book("thanks", purpose="service", trigger={"on": "order", "delay_days": 1})
HEADER = ["customer_id", "email", "phone", "first_name", "language", "country", "timezone"]


def customers(shop: Shop, n: int, consent: str = "yes", language: str = "sl") -> None:
    rows = [
        [
            f"C{i}",
            f"c{i}@example.si",
            f"+386 31 {100000 + i}",
            f"Ime{i}",
            language,
            "SI",
            "Europe/Ljubljana",
            "",
            "",
            consent,
        ]
        for i in range(n)
    ]
    shop.customers(rows)
    shop.products([["TEA", "Zeleni čaj <bio>", "tea", ""]])
    shop.orders(
        [
            [f"O{i}", f"C{i}", "2026-05-31T09:00:00Z", "EUR", "completed", "TEA", 2, "4.20"]
            for i in range(n)
        ]
    )


def options(**overrides: Any) -> SendOptions:
    return SendOptions(as_of=lambda: AS_OF, **overrides)


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)  # type: ignore[return-value]


def test_a_planned_message_arrives_once_as_multipart_with_one_click_unsubscribe(
    shop: Shop, inbox: tuple[Inbox, int]
) -> None:
    server, port = inbox
    customers(shop, 1)
    relmark = shop.interaction(
        PROMO,
        offers_on=True,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_from="Brew & Co <hello@brew.example>",
    )
    relmark.plan(AS_OF, AS_OF)

    report = relmark.send(options())
    again = relmark.send(options())

    assert (report.sent, again.sent) == (1, 0)
    [raw] = server.messages
    mail = parse(raw)
    [stored] = shop.messages()
    assert mail["Message-ID"] == stored["rfc_message_id"]
    assert stored["rfc_message_id"].endswith("@brew.example>")
    assert stored["status"] == "sent"
    assert mail["To"] == "c0@example.si"
    assert mail["Content-Language"] == "sl"
    assert mail["Subject"] == "Pogrešamo vas v trgovini Brew & Co"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    urls = [part.strip(" <>") for part in mail["List-Unsubscribe"].split(",")]
    assert urls[0].startswith("http://127.0.0.1:8000/u/")
    assert len(urls) == 1  # no mailto: without an unsubscribe mailbox that relmark reads
    text_part = mail.get_body(("plain",)).get_content()
    html_part = mail.get_body(("html",)).get_content()
    assert "Ime0" in text_part
    assert "10\u00a0%" in text_part  # Slovenian percent
    assert "P-" in text_part  # a personal discount code
    assert "/t/c/" in html_part  # the call to action is click-tracked
    assert "/t/o/" in html_part  # open pixel
    assert urls[0] in text_part


def test_unsubscribing_from_the_header_link_stops_the_rest(
    shop: Shop, inbox: tuple[Inbox, int]
) -> None:
    server, port = inbox
    customers(shop, 1)
    relmark = shop.interaction(
        PROMO,
        book(
            "promo2",
            template="winback",
            offer={"discount_percent": 5},
            trigger={"on": "order", "delay_days": 1},
        ),
        smtp_host="127.0.0.1",
        smtp_port=port,
        offers_on=True,
    )
    relmark.set_policy({"min_hours_between": 0}, AS_OF)
    relmark.plan(AS_OF, AS_OF)
    relmark.send(options(limit=1))
    token = parse(server.messages[0])["List-Unsubscribe"].split(",")[0].strip(" <>")
    relmark.unsubscribe(token.rsplit("/", 1)[1], AS_OF)
    assert relmark.send(options()).sent == 0
    assert len(server.messages) == 1


def test_temporary_failures_retry_with_backoff_then_succeed(
    shop: Shop, inbox: tuple[Inbox, int]
) -> None:
    server, port = inbox
    customers(shop, 1)
    server.refuse["c0@example.si"] = "451 4.3.0 try again later"
    relmark = shop.interaction(THANKS, smtp_host="127.0.0.1", smtp_port=port)
    relmark.plan(AS_OF, AS_OF)

    first = relmark.send(options(backoff=timedelta(minutes=10)))
    [held] = shop.messages()
    assert (first.sent, first.retried) == (0, 1)
    assert (held["status"], held["attempts"]) == ("planned", 1)
    assert held["next_attempt_at"] == AS_OF + timedelta(minutes=10)
    assert held["due_at"] == AS_OF  # what the budget saw does not move
    assert "451" in held["last_error"]
    assert relmark.send(options()).retried == 0  # not yet time

    del server.refuse["c0@example.si"]
    later = relmark.send(SendOptions(as_of=lambda: AS_OF + timedelta(minutes=11)))
    assert later.sent == 1
    assert len(server.messages) == 1


def test_permanent_failures_are_recorded_not_retried(shop: Shop, inbox: tuple[Inbox, int]) -> None:
    server, port = inbox
    customers(shop, 2)
    server.refuse["c0@example.si"] = "550 5.1.1 no such user"
    relmark = shop.interaction(THANKS, smtp_host="127.0.0.1", smtp_port=port)
    relmark.plan(AS_OF, AS_OF)
    report = relmark.send(options())
    assert (report.sent, report.failed) == (1, 1)
    statuses = {m["customer_id"]: (m["status"], m["last_error"]) for m in shop.messages()}
    assert statuses[shop.id_of("C0")][0] == "failed"
    assert "550" in statuses[shop.id_of("C0")][1]


def test_give_up_after_max_attempts(shop: Shop, inbox: tuple[Inbox, int]) -> None:
    server, port = inbox
    customers(shop, 1)
    server.refuse["c0@example.si"] = "421 4.7.0 busy"
    relmark = shop.interaction(THANKS, smtp_host="127.0.0.1", smtp_port=port)
    relmark.plan(AS_OF, AS_OF)
    for minute in range(0, 200, 20):
        relmark.send(
            SendOptions(as_of=lambda m=minute: AS_OF + timedelta(minutes=m), max_attempts=3)
        )
    [message] = shop.messages()
    assert (message["status"], message["attempts"]) == ("failed", 3)
    assert "gave up after 3" in message["last_error"]


def test_unreachable_smtp_server_is_a_temporary_failure(shop: Shop) -> None:
    customers(shop, 1)
    relmark = shop.interaction(THANKS, smtp_host="127.0.0.1", smtp_port=1, smtp_timeout=2)
    relmark.plan(AS_OF, AS_OF)
    report = relmark.send(options())
    assert report.retried == 1
    assert shop.messages()[0]["status"] == "planned"


class Hook(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []
    answers: list[int] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hook.received.append((dict(self.headers), body))
        self.send_response(Hook.answers.pop(0) if Hook.answers else 200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_webhook_channel_posts_signed_json(shop: Shop) -> None:
    customers(shop, 1)
    sms = book(
        "sms", purpose="service", channel="webhook", trigger={"on": "order", "delay_days": 1}
    )
    server = HTTPServer(("127.0.0.1", 0), Hook)
    Hook.received, Hook.answers = [], [503]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        relmark = shop.interaction(
            sms,
            webhook_url=f"http://127.0.0.1:{server.server_port}/sms",
            webhook_secret="hook-secret",
        )
        relmark.record_consent(  # personal data leaves relmark only with this consent
            shop.id_of("C0"),
            purpose="third_party_sharing",
            channel="sms",
            status=ConsentStatus.GRANTED,
            source="test",
            proof="signed form 7",
            wording_version=None,
            now=AS_OF,
        )
        relmark.plan(AS_OF, AS_OF)
        first = relmark.send(options(backoff=timedelta(seconds=1)))
        second = relmark.send(SendOptions(as_of=lambda: AS_OF + timedelta(minutes=1)))
    finally:
        server.shutdown()
    assert (first.retried, second.sent) == (1, 1)
    headers, body = Hook.received[-1]
    expected = hmac.new(b"hook-secret", body, hashlib.sha256).hexdigest()
    assert headers["X-Relmark-Signature"] == f"sha256={expected}"
    payload = json.loads(body)
    assert payload["to"]["phone"] == "+38631100000"
    assert payload["language"] == "sl"
    assert payload["idempotency_key"] == headers["Idempotency-Key"]


def test_no_transport_configured_is_a_clear_error(shop: Shop) -> None:
    customers(shop, 1)
    relmark = shop.interaction(THANKS)
    with pytest.raises(Exception, match="RELMARK_SMTP_HOST"):
        relmark.send(options())


@pytest.mark.slow
def test_a_killed_sender_loses_nothing_and_repeats_at_most_one(
    shop: Shop, inbox: tuple[Inbox, int], tmp_path: Path
) -> None:
    if shop.engine.dialect.name != "sqlite":
        pytest.skip("one backend is enough for a process kill; the outbox logic is shared")
    server, port = inbox
    customers(shop, 80)
    relmark = shop.interaction(THANKS)
    relmark.plan(AS_OF, AS_OF)
    playbooks = next(tmp_path.glob("books*"))
    env = {
        **os.environ,
        "RELMARK_DATABASE_URL": str(shop.engine.url),
        "RELMARK_SECRET_KEY": SECRET,
        "RELMARK_SMTP_HOST": "127.0.0.1",
        "RELMARK_SMTP_PORT": str(port),
    }
    command = [
        sys.executable,
        "-m",
        "relmark",
        "send",
        "--once",
        "--as-of",
        AS_OF.isoformat(),
        "--rate",
        "40/s",
        "--playbooks",
        str(playbooks),
        "--reclaim-after",
        "0",
    ]
    for _ in range(3):  # kill it three times at different moments
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        target = len(server.messages) + 12
        deadline = time.monotonic() + 30
        while len(server.messages) < target and time.monotonic() < deadline:
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        process.wait()
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr

    ids = Counter(parse(raw)["Message-ID"] for raw in server.messages)
    stored = {m["rfc_message_id"]: m["status"] for m in shop.messages()}
    assert set(ids) == set(stored)  # nothing lost
    assert set(stored.values()) == {"sent"}
    repeated = {k: n for k, n in ids.items() if n > 1}
    assert sum(n - 1 for n in repeated.values()) <= 3  # at most the one in flight per kill
