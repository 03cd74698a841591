"""Offers issued by real sends to a real SMTP server: the mail shows the stored code and the
stored expiry in the customer's language and calendar; a retry keeps the code, a failure
voids it; dry runs and test sends issue nothing. Both backends."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from email import policy
from typing import Any

import pytest
from sqlalchemy import select

from relmark.errors import InvalidInput
from relmark.interact.delivery import SendOptions
from relmark.interact.playbook import OfferKind, load_playbooks, parse_playbook
from relmark.rehearsal import dry_run, send_samples
from relmark.store.offer_models import Offer

from .conftest import Inbox, Shop, book

AS_OF = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PROMO = book(
    "promo",
    template="winback",
    offer={"kind": "discount", "percent_off": 15, "code_prefix": "BACK", "valid_days": 30},
    trigger={"on": "order", "delay_days": 1},
)


def people(shop: Shop) -> None:
    """Ana reads Slovenian in Ljubljana; Joe reads English in New York."""
    shop.customers(
        [
            ["C0", "ana@example.si", "", "Ana", "sl", "SI", "Europe/Ljubljana", "", "", "yes"],
            ["C1", "joe@example.com", "", "Joe", "en", "US", "America/New_York", "", "", "yes"],
        ]
    )
    shop.products([["TEA", "Tea", "tea", ""]])
    shop.orders(
        [
            [f"O{i}", f"C{i}", "2026-05-31T09:00:00Z", "EUR", "completed", "TEA", 1, "4.20"]
            for i in range(2)
        ]
    )


def offers_of(shop: Shop) -> list[dict[str, Any]]:
    with shop.engine.connect() as connection:
        rows = connection.execute(select(Offer).order_by(Offer.customer_id))
        return [dict(r) for r in rows.mappings()]


def body(raw: bytes) -> str:
    mail = email.message_from_bytes(raw, policy=policy.default)
    return str(mail.get_body(("plain",)).get_content())  # type: ignore[union-attr]


def mail_to(server: Inbox, address: str) -> str:
    [raw] = [m for m in server.messages if address.encode() in m.split(b"\r\n\r\n")[0]]
    return body(raw)


def sending(shop: Shop, port: int) -> Any:
    relmark = shop.interaction(PROMO, offers_on=True, smtp_host="127.0.0.1", smtp_port=port)
    relmark.set_policy({"min_hours_between": 0}, AS_OF)
    relmark.plan(AS_OF, AS_OF)
    return relmark


def at(moment: datetime) -> SendOptions:
    return SendOptions(as_of=lambda: moment)


def test_a_sent_message_issues_its_offer_and_shows_the_stored_code_and_expiry(
    shop: Shop, inbox: tuple[Inbox, int]
) -> None:
    # given
    server, port = inbox
    people(shop)
    relmark = sending(shop, port)
    assert offers_of(shop) == []  # planning promises nothing
    # when
    assert relmark.send(at(AS_OF)).sent == 2
    # then: one issued offer per sent message, valid to the end of the customer's 30th day
    ana, joe = offers_of(shop)
    messages = {m["customer_id"]: m["id"] for m in shop.messages()}
    for offer, customer in ((ana, "C0"), (joe, "C1")):
        assert offer["customer_id"] == shop.id_of(customer)
        assert offer["message_id"] == messages[offer["customer_id"]]
        assert (offer["status"], offer["kind"], offer["playbook"]) == (
            "issued",
            "discount",
            "promo",
        )
        assert offer["issued_at"] == AS_OF
        assert offer["code"].startswith("BACK-")
        assert float(offer["percent_off"]) == 15
    assert ana["expires_at"] == datetime(2026, 7, 1, 22, 0, tzinfo=UTC)  # 2 July 00:00 CEST
    assert joe["expires_at"] == datetime(2026, 7, 2, 4, 0, tzinfo=UTC)  # 2 July 00:00 EDT
    ana_mail, joe_mail = mail_to(server, "ana@example.si"), mail_to(server, "joe@example.com")
    assert ana["code"] in ana_mail
    assert "rok veljavnosti: 1. julij 2026" in ana_mail
    assert joe["code"] in joe_mail
    assert "valid until July 1, 2026" in joe_mail
    assert "30 d" not in ana_mail + joe_mail


def test_a_retry_reuses_the_reserved_code_and_issues_it_when_sent(
    shop: Shop, inbox: tuple[Inbox, int]
) -> None:
    server, port = inbox
    people(shop)
    server.refuse["ana@example.si"] = "451 4.3.0 try again later"
    relmark = sending(shop, port)

    first = relmark.send(at(AS_OF))
    [reserved] = [o for o in offers_of(shop) if o["customer_id"] == shop.id_of("C0")]
    assert first.retried == 1
    assert (reserved["status"], reserved["issued_at"]) == ("reserved", None)

    del server.refuse["ana@example.si"]
    later = AS_OF + timedelta(hours=2)
    assert relmark.send(at(later)).sent == 1

    [issued] = [o for o in offers_of(shop) if o["customer_id"] == shop.id_of("C0")]
    assert issued["id"] == reserved["id"]
    assert issued["code"] == reserved["code"]
    assert (issued["status"], issued["issued_at"]) == ("issued", later)
    assert reserved["code"] in mail_to(server, "ana@example.si")
    assert len(offers_of(shop)) == 2


def test_a_message_that_finally_fails_voids_its_offer(shop: Shop, inbox: tuple[Inbox, int]) -> None:
    server, port = inbox
    people(shop)
    server.refuse["ana@example.si"] = "550 5.1.1 no such user"
    relmark = sending(shop, port)

    report = relmark.send(at(AS_OF))

    assert (report.sent, report.failed) == (1, 1)
    statuses = {o["customer_id"]: (o["status"], o["close_reason"]) for o in offers_of(shop)}
    assert statuses[shop.id_of("C0")] == ("void", "message failed")
    assert statuses[shop.id_of("C1")] == ("issued", None)


def test_dry_runs_and_test_sends_issue_no_offer_and_show_a_never_valid_sample(
    shop: Shop, inbox: tuple[Inbox, int]
) -> None:
    server, port = inbox
    people(shop)
    relmark = sending(shop, port)

    shown, _, _ = dry_run(relmark, at(AS_OF), limit=10)
    sent = send_samples(relmark, "me@shop.example", AS_OF)

    assert offers_of(shop) == []
    assert len(shown) == 2
    assert all("BACK-SAMPLE00" in (p.text or "") for p in shown)
    assert [s["playbook"] for s in sent] == ["promo"]
    assert "BACK-SAMPLE00" in body(server.messages[0])
    assert {m["status"] for m in shop.messages()} == {"planned"}


@pytest.mark.parametrize(
    ("case", "offer", "message"),
    [
        ("no_kind", "{ percent_off = 10 }", "Field required"),
        ("gift_without_gift", '{ kind = "gift" }', "a gift offer names its gift"),
        (
            "both_values",
            '{ kind = "discount", percent_off = 10, amount_minor = 500, currency = "EUR" }',
            "either percent_off or amount_minor",
        ),
        (
            "amount_without_currency",
            '{ kind = "discount", amount_minor = 500 }',
            "amount_minor and currency go together",
        ),
        ("too_much", '{ kind = "discount", percent_off = 150 }', "less than or equal to 100"),
        ("typo", '{ kind = "discount", percent_of = 10 }', "unknown field (a typo?)"),
        ("bad_prefix", '{ kind = "discount", percent_off = 5, code_prefix = "b-1" }', "pattern"),
        (
            "renamed_twice",
            '{ kind = "discount", percent_off = 5, discount_percent = 5 }',
            "discount_percent was renamed percent_off",
        ),
    ],
)
def test_a_bad_offer_is_refused_naming_the_file_and_the_field(
    case: str, offer: str, message: str
) -> None:
    text_ = book("promo", template="winback").replace("[trigger]", f"offer = {offer}\n[trigger]")
    with pytest.raises(InvalidInput) as caught:
        parse_playbook(text_, "books/promo.toml")
    [problem] = caught.value.problems
    assert problem.where == "books/promo.toml", case
    assert (problem.column or "").startswith("offer"), case
    assert message in problem.message, case


def test_every_shipped_playbook_that_promises_something_names_its_offer() -> None:
    books = {b.name: b for b in load_playbooks()}
    kinds = {name: b.offer.kind for name, b in books.items() if b.offer is not None}
    assert kinds == {
        "win-back": OfferKind.DISCOUNT,
        "at-risk-discount": OfferKind.DISCOUNT,
        "birthday": OfferKind.DISCOUNT,
        "vip-gift": OfferKind.GIFT,
        "referral": OfferKind.REFERRAL_REWARD,
    }
    assert all(b.offer is not None for b in books.values() if b.cost == "high")
    assert books["vip-gift"].offer is not None
    assert books["vip-gift"].offer.gift
    assert books["referral"].offer is not None
    assert not books["referral"].offer.issued_at_send  # earned when the friend orders


def test_a_reservation_whose_message_will_never_go_is_voided_by_expiry(
    shop: Shop, inbox: tuple[Inbox, int]
) -> None:
    from relmark.store import offers
    from relmark.store.audit import Actor

    server, port = inbox
    people(shop)
    server.refuse["ana@example.si"] = "451 4.3.0 try again later"
    relmark = sending(shop, port)
    relmark.send(at(AS_OF))  # Ana's offer reserved, her message waits for a retry
    relmark.restrict(shop.id_of("C0"), True, AS_OF, actor=Actor.cli(), reason="asked")

    with shop.engine.begin() as connection:
        done = offers.expire(connection, AS_OF + timedelta(hours=1))

    assert (done.expired, done.voided) == (0, 1)
    statuses = {o["customer_id"]: (o["status"], o["close_reason"]) for o in offers_of(shop)}
    assert statuses[shop.id_of("C0")] == ("void", "message not sent")
    assert statuses[shop.id_of("C1")] == ("issued", None)
