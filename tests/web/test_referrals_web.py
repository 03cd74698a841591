"""Referrals over HTTP: `?ref=` and coupons captured by the tracking endpoint, the referrals
and ambassadors API (role-checked) and the /ambassadors page in every language."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from relmark import accounts
from relmark.accounts import Role
from relmark.store.referrals import code_for

from ..interact.conftest import scores
from .conftest import Web

NOW = datetime.now(UTC).replace(microsecond=0)


def rows(web: Web, sql: str) -> list[tuple]:
    with web.shop.engine.connect() as connection:
        return [tuple(r) for r in connection.execute(text(sql))]


def ana_with_code(web: Web) -> tuple[int, str]:
    web.shop.customers([["ANA", "ana@example.si", "", "Ana", "sl", "SI", "", "", "", "yes"]])
    ana = web.shop.id_of("ANA")
    with web.shop.engine.begin() as connection:
        return ana, code_for(connection, ana, NOW)


def send(web: Web, *messages: dict[str, Any]) -> dict[str, Any]:
    for n, message in enumerate(messages):
        message.setdefault("messageId", f"m-{n}-{message['type']}-{id(message)}")
        message.setdefault("timestamp", NOW.isoformat())
    response = web.client.post(
        "/v1/batch", content=json.dumps({"batch": list(messages)}), headers=web.as_role("ingest")
    )
    assert response.status_code == 200, response.text
    return response.json()


def order(user: str, order_id: str, **properties: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "userId": user,
        "event": "Order Completed",
        "properties": {"order_id": order_id, "total": 30, "currency": "EUR", **properties},
    }


def test_a_ref_link_seen_before_sign_up_attributes_the_first_order(web: Web) -> None:
    ana, code = ana_with_code(web)

    # a visitor lands on the shop through Ana's link, signs up later, then orders twice
    send(
        web,
        {
            "type": "page",
            "anonymousId": "anon-1",
            "name": "Home",
            "context": {"page": {"url": f"https://shop.example/?utm_source=mail&ref={code}"}},
        },
    )
    send(
        web,
        {
            "type": "identify",
            "anonymousId": "anon-1",
            "userId": "user-9",
            "traits": {"email": "neza@example.si", "firstName": "Neža"},
        },
    )
    first = send(web, order("user-9", "W-1"))
    send(web, order("user-9", "W-2"))

    # then the first order is Ana's referral, by link; the second is no referral at all
    assert first["referrals"] == 1
    assert rows(
        web,
        "SELECT r.referrer_id, o.external_id, r.via, r.status FROM referrals r "
        "JOIN orders o ON o.id = r.order_id",
    ) == [(ana, "W-1", "link", "pending")]


def test_a_coupon_equal_to_a_referral_code_attributes_the_order(web: Web) -> None:
    ana, code = ana_with_code(web)
    result = send(web, order("user-5", "W-5", coupon=code.lower(), discount=3))
    assert result["referrals"] == 1
    assert rows(web, "SELECT referrer_id, via, status, referee_discount_minor FROM referrals") == [
        (ana, "coupon", "pending", 300)
    ]


@pytest.mark.parametrize(
    "context",
    [
        {"page": {"search": "?ref=REF-22222222"}},  # the shape of a code, but no one's
        {"page": {"url": "https://shop.example/?ref=%3Cscript%3E"}},
        {"page": {"url": "https://shop.example/?" + "&".join(f"a{i}=1" for i in range(500))}},
        {"page": {"url": 42}},
        {"page": "not an object"},
    ],
)
def test_odd_or_unknown_refs_are_ignored_and_the_call_still_stored(
    web: Web, context: dict[str, Any]
) -> None:
    ana_with_code(web)
    result = send(web, {"type": "page", "anonymousId": "anon-2", "context": context})
    assert result["stored"] == 1
    assert rows(web, "SELECT COUNT(*) FROM referral_touches") == [(0,)]


def test_the_referrals_api_lists_with_filters_and_refuses_the_anonymous(web: Web) -> None:
    ana, code = ana_with_code(web)
    send(web, order("user-5", "W-5", coupon=code))
    send(web, order("ANA-WEB", "W-6", coupon=code))  # a new tracking user, not yet Ana

    viewer = web.as_role("viewer")
    listed = web.client.get("/api/v1/referrals", headers=viewer)
    pending = web.client.get(f"/api/v1/referrals?status=pending&customer_id={ana}", headers=viewer)

    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["total"] == 2
    assert [i["order_number"] for i in body["items"]] == ["W-6", "W-5"]
    assert {i["referrer_id"] for i in body["items"]} == {ana}
    assert pending.json()["total"] == 2
    friend = body["items"][1]["referee_id"]
    theirs = web.client.get(f"/api/v1/referrals?customer_id={friend}", headers=viewer).json()
    assert [i["order_number"] for i in theirs["items"]] == ["W-5"]
    assert web.client.get("/api/v1/referrals").status_code == 401
    bad = web.client.get("/api/v1/referrals?status=maybe", headers=viewer)
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")


def test_ambassadors_are_ranked_by_the_value_of_the_customers_they_brought(web: Web) -> None:
    # given Ana and Bor, who each brought one customer; only Bor's is scored
    ana, ana_code = ana_with_code(web)
    web.shop.customers([["BOR", "bor@example.si", "", "Bor", "sl", "SI", "", "", "", "yes"]])
    bor = web.shop.id_of("BOR")
    with web.shop.engine.begin() as connection:
        bor_code = code_for(connection, bor, NOW)
    send(web, order("friend-a", "A-1", coupon=ana_code, total=80))
    send(web, order("friend-b", "B-1", coupon=bor_code, total=20))
    friend_b = rows(web, f"SELECT referee_id FROM referrals WHERE referrer_id = {bor}")[0][0]
    scores(web.shop.engine, {friend_b: {"clv_minor": 50_000}}, NOW - timedelta(hours=1))

    # when the ambassadors are asked for
    answer = web.client.get("/api/v1/ambassadors", headers=web.as_role("viewer"))

    # then Bor ranks first by his friend's lifetime value; Ana's friend counts by revenue
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["currency"] == "EUR"
    assert [
        (i["referrer_id"], i["value_minor"], i["basis"], i["pending"]) for i in report["items"]
    ] == [
        (bor, 50_000, "clv", 1),
        (ana, 8_000, "revenue", 1),
    ]
    assert web.client.get("/api/v1/ambassadors").status_code == 401


@pytest.mark.parametrize(
    ("language", "heading"),
    [
        ("en", "Ambassadors"),
        ("ms", "Duta"),
        ("kk", "Елшілер"),
        ("tl", "Mga ambassador"),
        ("uk", "Амбасадори"),
        ("sl", "Ambasadorji"),
    ],
)
def test_the_ambassadors_page_in_every_language(web: Web, language: str, heading: str) -> None:
    ana, code = ana_with_code(web)
    send(web, order("user-5", "W-5", coupon=code))
    send(web, order("ANA-SELF", "W-6", coupon=code))
    with web.shop.engine.begin() as connection:  # W-6 turns out to be Ana's own order
        connection.execute(text("UPDATE orders SET status = 'cancelled' WHERE external_id = 'W-6'"))
    from relmark.interact.referrals import reward_referrals
    from relmark.store.audit import Actor

    reward_referrals(web.shop.engine, [], web.settings, NOW, Actor("engine", "test"))

    signed_out = web.client.get("/ambassadors")
    accounts.add_user(web.shop.engine, "vi@example.com", "correct horse battery", Role.VIEWER, NOW)
    web.client.post("/login", data={"email": "vi@example.com", "password": "correct horse battery"})
    page = web.client.get(f"/ambassadors?lang={language}")

    assert page.status_code == 200, page.text
    assert f"<h1>{heading}</h1>" in page.text
    assert f'<a href="/customers/{ana}">{ana}</a>' in page.text
    assert "<code>order_cancelled</code>" in page.text
    assert signed_out.headers["location"] == "/login"


def test_every_ambassadors_word_is_translated() -> None:
    import re
    from importlib import resources

    from babel.messages.pofile import read_po

    from relmark.interfaces.web import referral_pages as pages

    web = resources.files("relmark.interfaces.web")
    sources = [(web / "templates" / "ambassadors.html").read_text("utf-8")]
    used = {m[1] for s in sources for m in re.findall(r"""_\((["'])((?:(?!\1).)+)\1""", s)}
    labels = (pages.BASIS_LABELS, pages.STATUS_LABELS, pages.VIA_LABELS, pages.REASON_LABELS)
    msgids = used | {v for table in labels for v in table.values()} | {"Ambassadors"}
    assert len(msgids) > 30
    for language in ("ms", "kk", "tl", "uk", "sl"):
        with (web / "locales" / f"{language}.po").open("rb") as handle:
            catalog = read_po(handle)
        missing = sorted(m for m in msgids if not (catalog.get(m) and catalog.get(m).string))
        assert missing == [], (language, missing)
