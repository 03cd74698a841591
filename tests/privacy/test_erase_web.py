"""Erasure over HTTP: the API route (admin keys only) and the dashboard's button (admin
users, confirmed, with the CSRF token)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from relmark import accounts
from relmark.accounts import Role
from relmark.store import audit

from ..helpers import rows
from ..web.conftest import Web

HEADER = ["customer_id", "email", "phone", "first_name", "language", "country", "timezone"]
HEADER += ["birthday", "customer_since", "email_consent"]


def customers(web: Web) -> int:
    web.shop.customers(
        [
            ["A1", "ana.erase@example.si", "", "Anamarija", "sl", "SI", "", "", "", "yes"],
            ["B1", "bor@example.si", "", "Bor", "sl", "SI", "", "", "", "yes"],
        ]
    )
    return web.shop.id_of("A1")


def sign_in(web: Web, role: Role) -> str:
    email = f"{role.value}@example.si"
    accounts.add_user(web.shop.engine, email, "correct horse battery", role, datetime.now(UTC))
    web.client.post("/login", data={"email": email, "password": "correct horse battery"})
    return email


def test_the_api_erases_for_admins_only_and_audits_the_key(web: Web) -> None:
    # given a customer
    customer_id = customers(web)
    path = f"/api/v1/customers/{customer_id}/erase"

    # when a marketer, then an admin asks to erase; and ids that do not exist
    refused = web.client.post(path, headers=web.as_role("marketer"))
    done = web.client.post(path, json={"reason": "ticket 7"}, headers=web.as_role("admin"))
    missing = web.client.post("/api/v1/customers/999999/erase", headers=web.as_role("admin"))
    huge = web.client.post(f"/api/v1/customers/{2**70}/erase", headers=web.as_role("admin"))

    # then only the admin's request erased, with counts per table and the key audited
    assert refused.status_code == 403
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["customer_id"] == customer_id
    assert body["counts"]["customers"] == 1
    assert (missing.status_code, huge.status_code) == (404, 422)
    assert rows(web.shop.engine, "SELECT email FROM customers WHERE id = :c", c=customer_id) == [
        (None,)
    ]
    with web.shop.engine.connect() as connection:
        [entry] = audit.entries(connection, customer_id=customer_id)
    assert (entry["actor_kind"], entry["actor"], entry["action"]) == (
        "key",
        "admin (key 1)",
        "privacy.erase",
    )
    assert entry["detail"]["reason"] == "ticket 7"


def test_the_dashboard_button_is_for_admins_and_needs_confirmation(web: Web) -> None:
    # given a customer, and a marketer who signs in
    customer_id = customers(web)
    sign_in(web, Role.MARKETER)
    marketer_page = web.client.get(f"/customers/{customer_id}?lang=sl").text
    web.client.post("/logout", data={"csrf_token": _token(marketer_page)})

    # when an admin opens the page and submits the form without, then with, confirmation
    sign_in(web, Role.ADMIN)
    page = web.client.get(f"/customers/{customer_id}?lang=sl").text
    form = {"csrf_token": _token(page), "reason": "ticket 8"}
    unconfirmed = web.client.post(f"/customers/{customer_id}/erase", data=form)
    forged = web.client.post(
        f"/customers/{customer_id}/erase", data={**form, "csrf_token": "x", "confirm": "yes"}
    )
    confirmed = web.client.post(f"/customers/{customer_id}/erase", data={**form, "confirm": "yes"})
    after = web.client.get(f"/customers/{customer_id}?lang=sl").text

    # then the marketer never saw the button; the admin's erased only when confirmed
    assert "Izbriši to stranko" not in marketer_page
    assert "Izbriši to stranko" in page
    assert (unconfirmed.status_code, forged.status_code) == (400, 403)
    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == f"/customers/{customer_id}"
    assert "Osebni podatki izbrisani" in after
    assert "ana.erase@example.si" not in after
    assert "Izbriši to stranko" not in after
    with web.shop.engine.connect() as connection:
        [entry] = [
            e
            for e in audit.entries(connection, customer_id=customer_id)
            if e["action"] == "privacy.erase"
        ]
    assert (entry["actor_kind"], entry["actor"]) == ("user", "admin@example.si")


def _token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)
