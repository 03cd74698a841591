"""The pick list over HTTP: `GET /api/v1/gifts`, `POST /api/v1/gifts/{code}/fulfil` with
roles and problem answers, and the dashboard page /gifts in the reader's language with a
CSRF-protected "mark as sent" form (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from relmark import accounts
from relmark.accounts import Role

from ..gift_shop import gift_shop
from .conftest import Web


def test_the_api_lists_owed_gifts_and_filters_the_due_ones(web: Web) -> None:
    ids = gift_shop(web.shop.engine)
    every = web.client.get("/api/v1/gifts", headers=web.as_role("viewer"))
    due = web.client.get(
        "/api/v1/gifts", params={"due": "true", "language": "sl"}, headers=web.as_role("viewer")
    )
    assert every.status_code == 200, every.text
    assert [g["code"] for g in every.json()["items"]] == ["GIFT-BBBB3333", "GIFT-AAAA2222"]
    assert every.json()["total"] == 2
    [ana] = due.json()["items"]
    assert (ana["customer_id"], ana["next_order"], ana["due"]) == (ids["ana"], "1002", True)
    assert ana["gift_name"] == "Degustacijski set čajev (5 vrst)"
    assert web.client.get("/api/v1/gifts").status_code == 401
    bad = web.client.get("/api/v1/gifts", params={"language": "xx"}, headers=web.as_role("viewer"))
    assert bad.status_code == 422


def test_the_api_fulfils_for_marketers_and_says_why_not(web: Web) -> None:
    ids = gift_shop(web.shop.engine)
    url = "/api/v1/gifts/GIFT-AAAA2222/fulfil"
    viewer = web.client.post(url, json={"order": "1002"}, headers=web.as_role("viewer"))
    early = web.client.post(url, json={"order": "1001"}, headers=web.as_role("marketer"))
    unknown = web.client.post(
        "/api/v1/gifts/GIFT-ZZZZ9999/fulfil", json={"order": "1"}, headers=web.as_role("marketer")
    )
    done = web.client.post(url, json={"order": "1002"}, headers=web.as_role("marketer"))
    again = web.client.post(url, json={"order": "1003"}, headers=web.as_role("marketer"))
    assert viewer.status_code == 403
    assert early.status_code == 422
    assert early.headers["content-type"].startswith("application/problem+json")
    assert "placed before the gift was promised" in early.json()["errors"][0]["message"]
    assert unknown.status_code == 404
    assert done.status_code == 200, done.text
    assert done.json()["order_id"] == ids["orders"]["ana_next"]
    assert again.status_code == 422
    assert "already fulfilled" in again.json()["errors"][0]["message"]


def sign_in(web: Web, role: Role) -> str:
    accounts.add_user(
        web.shop.engine, "pick@shop.example", "correct horse battery", role, datetime.now(UTC)
    )
    web.client.post(
        "/login", data={"email": "pick@shop.example", "password": "correct horse battery"}
    )
    page = web.client.get("/").text
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def test_the_page_lists_gifts_in_the_readers_language_and_marks_one_sent(web: Web) -> None:
    gift_shop(web.shop.engine)
    token = sign_in(web, Role.MARKETER)
    page = web.client.get("/gifts?lang=uk").text
    assert "Подарунки до відправлення" in page
    assert "Дегустаційний набір чаю (5 видів)" in page
    assert "Slovenska 1" in page
    assert 'action="/gifts/GIFT-AAAA2222/fulfil"' in page
    assert 'name="order" value="1002"' in page  # the order it can travel with, filled in
    forged = web.client.post("/gifts/GIFT-AAAA2222/fulfil", data={"order": "1002"})
    assert forged.status_code == 403
    wrong = web.client.post(
        "/gifts/GIFT-AAAA2222/fulfil", data={"csrf_token": token, "order": "2001"}
    )
    assert wrong.status_code == 200
    assert "no order 2001" in wrong.text
    sent = web.client.post(
        "/gifts/GIFT-AAAA2222/fulfil", data={"csrf_token": token, "order": "1002"}
    )
    assert sent.status_code == 303
    after = web.client.get(sent.headers["location"]).text
    assert "GIFT-AAAA2222" in after  # "… marked as sent"
    assert 'action="/gifts/GIFT-AAAA2222/fulfil"' not in after
    assert 'action="/gifts/GIFT-BBBB3333/fulfil"' in after


def test_a_viewer_sees_the_list_without_the_form(web: Web) -> None:
    gift_shop(web.shop.engine)
    sign_in(web, Role.VIEWER)
    page = web.client.get("/gifts?due=1").text
    assert "GIFT-AAAA2222" in page
    assert "GIFT-BBBB3333" not in page  # not due: no order since
    assert "/fulfil" not in page
