"""The mailto: unsubscribe is honoured through a real IMAP mailbox (a small IMAP4rev1 server
over TCP), like the one-click link; without a mailbox, messages carry only the https link."""

from __future__ import annotations

import email
import json
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from typer.testing import CliRunner

from relmark.interact.delivery import SendOptions
from relmark.interfaces.cli import app
from relmark.unsubscribe_mailbox import MailboxError, poll

from ..helpers import rows
from ..imap_server import ImapServer
from .conftest import SECRET, Inbox, Shop, free_port
from .test_delivery import AS_OF, PROMO, customers

ADDRESS = "unsub@brew.example"


@pytest.fixture
def imap() -> Iterator[ImapServer]:
    with ImapServer(user=ADDRESS) as server:
        yield server


def mailbox_settings(imap: ImapServer, port: int) -> dict:
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_from": "Brew & Co <hello@brew.example>",
        "imap_host": "127.0.0.1",
        "imap_port": imap.port,
        "imap_user": ADDRESS,
        "imap_password": imap.password,
        "imap_tls": "none",
    }


def sent_mailto(server: Inbox) -> tuple[str, str, EmailMessage]:
    """The mailto: of the one sent message: (address, subject, the message)."""
    [raw] = server.messages
    mail = email.message_from_bytes(raw, policy=policy.default)
    links = [p.strip(" <>") for p in mail["List-Unsubscribe"].split(",")]
    [mailto] = [link for link in links if link.startswith("mailto:")]
    parts = urlsplit(mailto)
    return unquote(parts.path), parse_qs(parts.query)["subject"][0], mail


def request(sender: str, to: str, subject: str, **headers: str) -> bytes:
    """What a mail program sends for a mailto: link (or a person's reply)."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = subject
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content("This message was sent automatically to unsubscribe.")
    return mail.as_bytes()


def send_one(shop: Shop, settings: dict):  # noqa: ANN201
    customers(shop, 1)
    relmark = shop.interaction(PROMO, offers_on=True, **settings)
    relmark.plan(AS_OF, AS_OF)
    assert relmark.send(SendOptions(as_of=lambda: AS_OF)).sent == 1
    return relmark


def consent_rows(shop: Shop) -> list[tuple]:
    return rows(
        shop.engine,
        "SELECT status, source, proof FROM consents WHERE source LIKE 'unsubscribe%'",
    )


def test_without_a_mailbox_only_the_https_link(shop: Shop, inbox: tuple[Inbox, int]) -> None:
    server, port = inbox
    settings = {"smtp_host": "127.0.0.1", "smtp_port": port}
    send_one(shop, settings)
    [raw] = server.messages
    mail = email.message_from_bytes(raw, policy=policy.default)
    assert "mailto:" not in mail["List-Unsubscribe"]
    assert mail["List-Unsubscribe"].startswith("<http://127.0.0.1:8000/u/")


def test_a_mailto_unsubscribe_is_honoured_like_the_link(
    shop: Shop, inbox: tuple[Inbox, int], imap: ImapServer
) -> None:
    server, port = inbox
    relmark = send_one(shop, mailbox_settings(imap, port))
    to, subject, sent = sent_mailto(server)
    assert to == ADDRESS
    assert subject.startswith("unsubscribe ")
    imap.deliver(b"From: someone@example.org\nSubject: hello\n\nJust saying hi.\n")
    imap.deliver(request("c0@example.si", to, "Out of office", Auto_Submitted="auto-replied"))
    imap.deliver(request("Ime0 <c0@example.si>", to, subject))
    imap.deliver(b"From: old@example.org\nSubject: seen already\n\nx\n", {"\\Seen"})

    report = poll(relmark, AS_OF)

    assert (report.read, report.unsubscribed, report.already) == (3, 1, 0)
    assert [i["why"][:22] for i in report.ignored] == [
        "no unsubscribe token a",
        "an automatic mail (Aut",
    ]
    [(status, source, proof)] = consent_rows(shop)
    assert (status, source) == ("withdrawn", "unsubscribe-mailto")
    assert sent["Message-ID"] in proof
    assert "mailto: unsubscribe from c0@example.si" in proof
    assert rows(
        shop.engine,
        "SELECT actor_kind, actor, origin FROM audit_log WHERE action LIKE 'consent%'",
    ) == [("link", "unsubscribe-mailto", "unsubscribe mailbox")]
    assert rows(shop.engine, "SELECT kind FROM message_events WHERE kind = 'unsubscribe'") == [
        ("unsubscribe",)
    ]
    assert imap.seen() == [True, True, True, True]
    assert any("BODY.PEEK[]" in c for c in imap.commands)  # read without marking seen first
    # a second poll finds nothing new; the same mail again changes nothing
    assert poll(relmark, AS_OF).read == 0
    imap.deliver(request("c0@example.si", to, subject))
    assert poll(relmark, AS_OF).already == 1
    assert len(consent_rows(shop)) == 1


def test_a_reply_from_the_recipient_unsubscribes_from_another_address_does_not(
    shop: Shop, inbox: tuple[Inbox, int], imap: ImapServer
) -> None:
    server, port = inbox
    relmark = send_one(shop, mailbox_settings(imap, port))
    _to, _subject, sent = sent_mailto(server)
    message_id = sent["Message-ID"]
    imap.deliver(request("x@example.org", ADDRESS, "Re: stop", In_Reply_To=message_id))
    imap.deliver(request("someone@else.org", ADDRESS, "Re: x", In_Reply_To="<nope@x>"))

    first = poll(relmark, AS_OF)
    assert first.unsubscribed == 0
    assert [i["why"] for i in first.ignored] == [
        "replies to a message of ours from another address than the recipient's",
        "replies to no message in the outbox",
    ]
    assert consent_rows(shop) == []

    imap.deliver(request("C0@Example.si", ADDRESS, "Re: stop", References=f"<a@b> {message_id}"))
    assert poll(relmark, AS_OF).unsubscribed == 1
    [(status, _source, proof)] = consent_rows(shop)
    assert status == "withdrawn"
    assert f"reply to {message_id}" in proof


def test_a_wrong_password_or_no_server_is_a_clear_error(shop: Shop, imap: ImapServer) -> None:
    relmark = shop.interaction(
        PROMO,
        imap_host="127.0.0.1",
        imap_port=imap.port,
        imap_user=ADDRESS,
        imap_password="wrong",
        imap_tls="none",
    )
    with pytest.raises(MailboxError, match="refused"):
        poll(relmark, AS_OF)
    closed = shop.interaction(PROMO, imap_host="127.0.0.1", imap_port=free_port(), imap_tls="none")
    with pytest.raises(MailboxError, match="cannot reach the unsubscribe mailbox at 127.0.0.1"):
        poll(closed, AS_OF)


def test_the_cli_polls_once(
    shop: Shop, inbox: tuple[Inbox, int], imap: ImapServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, port = inbox
    settings = mailbox_settings(imap, port)
    send_one(shop, settings)
    to, subject, _sent = sent_mailto(server)
    imap.deliver(request("c0@example.si", to, subject))
    db = ["--db", shop.engine.url.render_as_string(hide_password=False)]
    from relmark.config import get_settings

    monkeypatch.setenv("RELMARK_SECRET_KEY", SECRET)
    get_settings.cache_clear()
    runner = CliRunner()
    unset = runner.invoke(app, ["unsubscribe-mailbox", "poll", *db])
    assert unset.exit_code == 1
    assert "RELMARK_IMAP_HOST" in unset.output
    for key in ("imap_host", "imap_port", "imap_user", "imap_password", "imap_tls"):
        monkeypatch.setenv(f"RELMARK_{key.upper()}", str(settings[key]))
    get_settings.cache_clear()
    try:
        done = runner.invoke(app, ["unsubscribe-mailbox", "poll", *db, "--json"])
    finally:
        get_settings.cache_clear()
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["unsubscribed"] == 1
    assert [r[0] for r in consent_rows(shop)] == ["withdrawn"]
