"""Double opt-in for e-mail marketing (issue 12): with the store setting on, a new marketing
consent is pending, never consent; a confirmation message in the customer's language goes
through the outbox and a real SMTP server; only the click on its signed link grants, with
proof and an audit entry. Real store (SQLite and PostgreSQL), real HTTP, real CLI."""

from __future__ import annotations

import email
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, text, update
from typer.testing import CliRunner

from relmark.interact.delivery import SendOptions
from relmark.interact.tokens import LinkKind
from relmark.interfaces.cli import app
from relmark.store import audit
from relmark.store.models import Message

from ..interact.conftest import Inbox, book, free_port
from .conftest import Web
from .test_links import token

AS_OF = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PROMO = book("promo", template="winback", trigger={"on": "order", "delay_days": 1})
KK = ["C1", "aigerim@example.kz", "", "Aigerim", "kk", "KZ", "Asia/Almaty", "", "", "yes"]


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on a free local port."""
    handler, port = Inbox(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def now() -> datetime:
    """Confirm links age by the wall clock (the server's), so plans here run at it too."""
    return datetime.now(UTC)


def statuses(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT status, source FROM consents ORDER BY id"))
        return [tuple(r) for r in rows]


def held(web: Web) -> str:
    from relmark.store.identity import effective_consents

    with web.shop.engine.connect() as connection:
        found = effective_consents(connection, web.shop.id_of("C1"))
    return {(c["purpose"], c["channel"]): c["status"] for c in found}[("marketing", "email")]


def confirm_link(raw: bytes) -> str:
    mail = email.message_from_bytes(raw, policy=policy.default)
    body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    return re.search(r"http://127\.0\.0\.1:8000(/c/\S+)", body).group(1)  # type: ignore[union-attr]


def test_an_imported_yes_waits_for_the_customers_click(web: Web, smtp: tuple[Inbox, int]) -> None:
    server, port = smtp
    relmark = web.shop.interaction(PROMO, smtp_host="127.0.0.1", smtp_port=port)
    relmark.set_double_opt_in(True, AS_OF)
    web.shop.customers([KK])
    web.shop.products([["TEA", "Tea", "tea", ""]])
    web.shop.orders([["O1", "C1", "2026-05-31T10:00:00Z", "EUR", "completed", "TEA", 1, "5"]])
    assert statuses(web.shop.engine) == [("pending", "default")]

    relmark.plan(AS_OF, now())  # pending is no consent: the offer is held; a confirmation goes

    by_playbook = {m["playbook"]: m for m in web.shop.messages()}
    assert (by_playbook["promo"]["status"], by_playbook["promo"]["reason"]) == (
        "held",
        "no_consent",
    )
    confirmation = by_playbook["consent-confirmation"]
    assert (confirmation["status"], confirmation["purpose"]) == ("planned", "transactional")
    assert relmark.send(SendOptions(as_of=now)).sent == 1
    [raw] = server.messages
    mail = email.message_from_bytes(raw, policy=policy.default)
    assert mail["Content-Language"] == "kk"
    assert mail["Subject"] == "Brew & Co жазылымыңызды растаңыз"
    assert mail["List-Unsubscribe"] is None  # nothing is subscribed yet
    link = confirm_link(raw)

    asked = web.client.get(link)  # a mail scanner's prefetch grants nothing
    assert asked.status_code == 200
    assert "Иә, жазылғым келеді" in asked.text
    assert held(web) == "pending"
    done = web.client.post(link, headers={"User-Agent": "Firefox/140"})
    assert done.status_code == 200
    assert "Жазылымыңыз расталды" in done.text
    assert held(web) == "granted"
    with web.shop.engine.connect() as connection:
        source, proof = connection.execute(
            text("SELECT source, proof FROM consents WHERE status = 'granted'")
        ).one()
        trail = audit.entries(connection, customer_id=web.shop.id_of("C1"))
        events = connection.execute(text("SELECT kind FROM message_events")).scalars().all()
    assert source == "double-opt-in"
    assert f"message {confirmation['id']}" in proof
    assert confirmation["rfc_message_id"] in proof
    assert "Firefox/140" in proof  # where the click came from
    assert [(e["actor_kind"], e["action"]) for e in trail] == [("link", "consent.granted")]
    assert events == ["confirm"]
    assert web.client.post(link).status_code == 200  # a second click changes nothing
    assert [s for s, _ in statuses(web.shop.engine)] == ["pending", "granted"]
    relmark.plan(AS_OF, now())
    assert len(web.shop.messages("playbook = 'consent-confirmation'")) == 1  # not asked again


def test_a_grant_by_staff_is_pending_and_queues_its_confirmation(web: Web, store_url: str) -> None:
    web.shop.customers([[*KK[:-1], ""]])
    customer = web.shop.id_of("C1")
    runner = CliRunner()
    on = runner.invoke(app, ["consent", "double-opt-in", "on", "--db", store_url])
    assert on.exit_code == 0, on.output
    assert "on" in on.output

    granted = runner.invoke(
        app, ["consent", "grant", str(customer), "--proof", "form 12", "--db", store_url]
    )

    assert granted.exit_code == 0, granted.output
    assert "pending" in granted.output
    assert held(web) == "pending"
    [message] = web.shop.messages()
    assert (message["playbook"], message["status"]) == ("consent-confirmation", "planned")
    with web.shop.engine.connect() as connection:
        actions = [e["action"] for e in audit.entries(connection)]
    assert actions == ["consent.pending", "policy.change"]


def test_consent_given_before_double_opt_in_stays_granted(web: Web) -> None:
    web.shop.customers([KK])
    relmark = web.shop.interaction(PROMO)
    relmark.set_double_opt_in(True, AS_OF)

    web.shop.customers([KK])  # the same "yes" again
    relmark.plan(AS_OF, now())

    assert held(web) == "granted"
    assert web.shop.messages("playbook = 'consent-confirmation'") == []


def test_other_links_stale_links_and_forgeries_confirm_nothing(web: Web) -> None:
    relmark = web.shop.interaction(PROMO)
    relmark.set_double_opt_in(True, AS_OF)
    web.shop.customers([KK])
    web.shop.products([["TEA", "Tea", "tea", ""]])
    web.shop.orders([["O1", "C1", "2026-05-31T10:00:00Z", "EUR", "completed", "TEA", 1, "5"]])
    relmark.plan(AS_OF, now())
    by_playbook = {m["playbook"]: m for m in web.shop.messages()}
    confirmation, promo = by_playbook["consent-confirmation"], by_playbook["promo"]

    assert web.client.post(f"/c/{token(confirmation, LinkKind.UNSUBSCRIBE)}").status_code == 400
    assert web.client.post(f"/c/{token(promo, LinkKind.CONFIRM)}").status_code == 400
    with web.shop.engine.begin() as connection:
        connection.execute(
            update(Message)
            .where(Message.id == confirmation["id"])
            .values(created_at=datetime.now(UTC) - timedelta(days=31))
        )
    assert web.client.post(f"/c/{token(confirmation, LinkKind.CONFIRM)}").status_code == 400
    assert held(web) == "pending"


def test_ticking_marketing_in_the_preference_centre_asks_for_confirmation(web: Web) -> None:
    web.shop.customers([[*KK[:-1], "withdrawn"]])
    web.shop.products([["TEA", "Tea", "tea", ""]])
    web.shop.orders([["O1", "C1", "2026-05-31T10:00:00Z", "EUR", "completed", "TEA", 1, "5"]])
    relmark = web.shop.interaction(
        book(
            "thanks",
            purpose="service",
            template="thank_you",
            trigger={"on": "order", "delay_days": 1},
        )
    )
    relmark.plan(AS_OF, now())
    [message] = web.shop.messages()
    relmark.set_double_opt_in(True, AS_OF)

    saved = web.client.post(
        f"/p/{token(message, LinkKind.UNSUBSCRIBE)}", data={"marketing": "1", "service": "1"}
    )

    assert saved.status_code == 200
    assert 'name="marketing" value="1" checked' not in saved.text  # not consent until clicked
    assert held(web) == "pending"
    [confirmation] = web.shop.messages("playbook = 'consent-confirmation'")
    assert confirmation["status"] == "planned"
