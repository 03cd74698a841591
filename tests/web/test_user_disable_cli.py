"""Issue 12, defect 8 (part): `relmark users disable|enable|logout EMAIL` act at once on the
running server: a disabled user cannot sign in and their open sessions stop working."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from relmark import accounts
from relmark.accounts import Role
from relmark.interfaces.cli import app
from relmark.interfaces.web.app import create_app
from relmark.store import audit

from .conftest import Web

runner = CliRunner()
EMAIL = "mia@example.com"
PASSWORD = "correct horse battery"


def store_url(web: Web) -> str:
    return web.shop.engine.url.render_as_string(hide_password=False)


def browser(web: Web) -> TestClient:
    """A browser signed in as Mia (a marketer)."""
    client = TestClient(create_app(web.shop.engine, web.settings), follow_redirects=False)
    answer = client.post("/login", data={"email": EMAIL, "password": PASSWORD})
    assert answer.headers["location"] == "/"
    return client


def relmark(web: Web, *args: str) -> str:
    result = runner.invoke(app, [*args, "--db", store_url(web)])
    assert result.exit_code == 0, result.output
    return result.output


def is_signed_in(client: TestClient) -> bool:
    page, api = client.get("/"), client.get("/api/v1/customers")
    assert (page.status_code == 200) == (api.status_code == 200)
    return page.status_code == 200


def test_a_disabled_user_is_signed_out_everywhere_and_cannot_sign_in(web: Web) -> None:
    # given Mia, signed in on two browsers
    accounts.add_user(web.shop.engine, EMAIL, PASSWORD, Role.MARKETER, datetime.now(UTC))
    laptop, phone = browser(web), browser(web)
    assert is_signed_in(laptop)
    assert is_signed_in(phone)
    # when an admin disables her from the command line
    said = relmark(web, "users", "disable", "Mia@Example.com")
    # then both sessions stop working at once, and her password no longer signs her in
    assert "2 session(s) ended" in said
    assert not is_signed_in(laptop)
    assert laptop.get("/").headers["location"] == "/login"
    assert laptop.get("/api/v1/customers").status_code == 401
    assert not is_signed_in(phone)
    again = laptop.post("/login", data={"email": EMAIL, "password": PASSWORD})
    assert again.headers["location"] == "/login?failed=1"
    listed = json.loads(relmark(web, "users", "list", "--json"))
    assert listed[0]["disabled_at"] is not None
    # and enabling her lets her sign in again
    relmark(web, "users", "enable", EMAIL)
    assert is_signed_in(browser(web))
    # and the trail names who did what to which account, with no personal values
    with web.shop.engine.connect() as connection:
        trail = audit.entries(connection)
    assert [e["action"] for e in trail[:2]] == ["user.enable", "user.disable"]
    assert trail[1]["actor_kind"] == "cli"
    assert trail[1]["detail"] == {"user_id": listed[0]["id"], "sessions_ended": 2}
    assert EMAIL not in json.dumps(trail, default=str)


def test_logout_ends_every_session_but_keeps_the_account(web: Web) -> None:
    # given Mia signed in on two browsers
    accounts.add_user(web.shop.engine, EMAIL, PASSWORD, Role.MARKETER, datetime.now(UTC))
    laptop, phone = browser(web), browser(web)
    # when `relmark users logout` is run
    said = relmark(web, "users", "logout", EMAIL)
    # then both browsers are signed out, and she can sign in again
    assert "2 session(s)" in said
    assert not is_signed_in(laptop)
    assert not is_signed_in(phone)
    assert is_signed_in(browser(web))


def test_an_unknown_user_is_a_clear_error(web: Web) -> None:
    for command in ("disable", "enable", "logout"):
        result = runner.invoke(app, ["users", command, "who@example.com", "--db", store_url(web)])
        assert result.exit_code == 1
        assert "no user who@example.com" in result.output
