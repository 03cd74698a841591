"""Sent mail takes its From, Reply-To, signature and logo from the shop's settings in the store,
through a real SMTP server (the demo's MailSink), without rebuilding the engine."""

from __future__ import annotations

import email
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email import policy
from pathlib import Path

import pytest

from relmark import live_sender, shop_settings
from relmark.config import Settings
from relmark.interact.delivery import SendOptions, SmtpTransport
from relmark.interact.sink import MailSink
from relmark.interaction import Interaction

from .conftest import SECRET, Shop, book

AS_OF = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
THANKS = book("thanks", purpose="service", trigger={"on": "order", "delay_days": 0})
LOGO = "https://kedai.example/logo.png"


def customer_with_order(shop: Shop, n: int) -> None:
    shop.customers([[f"C{n}", f"c{n}@example.my", "", f"Nama{n}", "ms", "MY", "", "", "", "yes"]])
    shop.products([["TEA", "Teh tarik", "tea", ""]])
    shop.orders(
        [[f"O{n}", f"C{n}", "2026-06-01T09:00:00Z", "MYR", "completed", "TEA", 1, "5.00"]],
        name=f"o{n}.csv",
    )


def sent(folder: Path) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(p.read_bytes(), policy=policy.default)  # type: ignore[misc]
        for p in sorted(folder.glob("*.eml"))
    ]


def test_from_reply_to_and_logo_come_from_the_store(shop: Shop, tmp_path: Path) -> None:
    books = tmp_path / "books"
    books.mkdir()
    (books / "thanks.toml").write_text(THANKS, encoding="utf-8")
    # no shop values from the environment; one engine object for both sends (no restart)
    relmark = Interaction(shop.engine, Settings(secret_key=SECRET), playbooks_dir=books)
    folder = tmp_path / "mail"
    with MailSink(folder) as sink:
        transport = {"email": SmtpTransport(host="127.0.0.1", port=sink.port)}
        customer_with_order(shop, 1)
        relmark.plan(AS_OF, AS_OF)
        relmark.send(SendOptions(as_of=lambda: AS_OF), transports=transport)

        shop_settings.change(
            shop.engine,
            {
                "shop_name": "Kedai Ali",
                "smtp_from": "Kedai Ali <hello@kedai.example>",
                "reply_to": "Kedai Ali Help <help@kedai.example>",
                "logo_url": LOGO,
            },
            AS_OF,
        )
        customer_with_order(shop, 2)
        relmark.plan(AS_OF, AS_OF)
        relmark.send(SendOptions(as_of=lambda: AS_OF), transports=transport)

    before, after = sent(folder)
    assert before["From"] == "relmark <noreply@relmark.invalid>"
    assert before["Reply-To"] is None
    assert LOGO not in before.get_body(("html",)).get_content()
    assert after["From"] == "Kedai Ali <hello@kedai.example>"
    assert after["Reply-To"] == "Kedai Ali Help <help@kedai.example>"
    assert after["Message-ID"].endswith("@kedai.example>")  # the planner's mail domain too
    html = after.get_body(("html",)).get_content()
    assert f'<img src="{LOGO}" alt="Kedai Ali"' in html
    assert "Kedai Ali" in after.get_body(("plain",)).get_content()


def wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 120  # a hang guard only
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_running_send_loop_takes_up_a_new_sender(
    shop: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`relmark send --loop` keeps running while the shop changes its sender: the next
    message goes out with the new From and Reply-To, without a restart."""
    monkeypatch.setattr(live_sender, "SHOP_SETTINGS_TTL", 0.0)  # re-read for every message
    books = tmp_path / "books"
    books.mkdir()
    (books / "thanks.toml").write_text(THANKS, encoding="utf-8")
    relmark = Interaction(shop.engine, Settings(secret_key=SECRET), playbooks_dir=books)
    folder = tmp_path / "mail"
    with MailSink(folder) as sink:
        transport = {"email": SmtpTransport(host="127.0.0.1", port=sink.port)}
        options = SendOptions(as_of=lambda: AS_OF, once=False, poll_seconds=0.05, limit=2)
        customer_with_order(shop, 1)
        relmark.plan(AS_OF, AS_OF)
        loop = threading.Thread(
            target=relmark.send, args=(options,), kwargs={"transports": transport}
        )
        loop.start()
        wait_for(lambda: sink.received == 1)
        shop_settings.change(
            shop.engine,
            {"smtp_from": "Kedai Ali <hello@kedai.example>", "reply_to": "help@kedai.example"},
            AS_OF,
        )
        customer_with_order(shop, 2)
        relmark.plan(AS_OF, AS_OF)
        wait_for(lambda: sink.received == 2)
        customer_with_order(shop, 3)  # one more due message: the loop sees its limit, stops
        relmark.plan(AS_OF, AS_OF)
        loop.join(timeout=120)

    assert not loop.is_alive()
    first, second = sent(folder)
    assert (first["From"], first["Reply-To"]) == ("relmark <noreply@relmark.invalid>", None)
    assert (second["From"], second["Reply-To"]) == (
        "Kedai Ali <hello@kedai.example>",
        "help@kedai.example",
    )
