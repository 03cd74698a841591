"""The settings page's Shop section: administrators edit the shop's settings, everyone else
sees them; the environment's values are read-only; errors are plain words per field; a
change made elsewhere (the CLI) shows without restarting the server."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from relmark import accounts, shop_settings
from relmark.accounts import Role
from relmark.config import Settings
from relmark.interfaces.web.app import create_app
from relmark.store.audit import entries

from .conftest import Web

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def sign_in(client: TestClient, engine, email: str, role: Role) -> str:  # noqa: ANN001
    accounts.add_user(engine, email, "correct horse battery", role, datetime.now(UTC))
    client.post("/login", data={"email": email, "password": "correct horse battery"})
    page = client.get("/").text
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def field(page: str, name: str) -> str:
    """The <input> tag of `name` on the page."""
    return re.search(rf'<input name="{name}"[^>]*>', page).group(0)  # type: ignore[union-attr]


def shop_form(token: str, **values: str) -> dict[str, str]:
    return {"csrf_token": token, **values}


def test_an_admin_saves_the_shop_and_every_page_shows_it(web: Web) -> None:
    engine = web.shop.engine
    token = sign_in(web.client, engine, "ana@shop.example", Role.ADMIN)

    page = web.client.get("/settings").text
    saved = web.client.post(
        "/settings/shop",
        data=shop_form(
            token,
            shop_name="Brew & Co",  # set by the app's own settings: ignored
            smtp_from="Kedai Ali <hello@kedai.example>",
            reply_to="help@kedai.example",
            currency="myr",
            logo_url="",
        ),
    )

    assert 'id="shop"' in page
    assert "readonly" in field(page, "shop_name")  # the app was started with a shop_name
    assert "RELMARK_SHOP_NAME" in page
    assert "readonly" not in field(page, "smtp_from")
    assert saved.status_code == 200
    assert "Shop settings saved." in saved.text
    assert 'value="MYR"' in field(saved.text, "currency")
    with engine.connect() as connection:
        kept = shop_settings.read(connection, web.settings)
        trail = entries(connection)
    values = {v.key: (v.value, v.source) for v in kept}
    assert values["smtp_from"] == ("Kedai Ali <hello@kedai.example>", "store")
    assert values["currency"] == ("MYR", "store")
    assert values["shop_name"] == ("Brew & Co", "env")
    assert values["logo_url"] == (None, "default")  # an empty field is not saved
    [entry] = [e for e in trail if e["action"] == "settings.change"]
    assert (entry["actor"], entry["detail"]) == (
        "ana@shop.example",
        {"keys": ["currency", "reply_to", "smtp_from"]},
    )


def test_bad_values_are_plain_words_per_field_and_nothing_is_saved(web: Web) -> None:
    token = sign_in(web.client, web.shop.engine, "ana@shop.example", Role.ADMIN)

    refused = web.client.post(
        "/settings/shop?lang=sl",
        data=shop_form(
            token,
            public_url="relmark.shop.example",
            smtp_from="Kedai Ali",
            currency="ringgit",
            timezone="Kuala Lumpur",
        ),
    )

    text = refused.text
    assert "Nič ni bilo shranjeno" in text
    assert "Vnesite spletni naslov, ki se začne s http:// ali https://" in text
    assert "Vnesite en e-poštni naslov" in text
    assert "Vnesite tričrkovno kodo valute" in text
    assert "Vnesite časovni pas s polnim imenom" in text
    assert "validation" not in text.lower()
    assert "pydantic" not in text.lower()
    assert 'aria-invalid="true"' in field(text, "currency")
    assert 'value="ringgit"' in field(text, "currency")  # what was typed stays to be fixed
    assert 'aria-invalid="true"' not in field(text, "reply_to")
    with web.shop.engine.connect() as connection:
        assert all(v.source != "store" for v in shop_settings.read(connection, web.settings))


def test_only_an_admin_may_change_the_shop(web: Web) -> None:
    token = sign_in(web.client, web.shop.engine, "mia@shop.example", Role.MARKETER)

    page = web.client.get("/settings")
    refused = web.client.post("/settings/shop", data=shop_form(token, currency="EUR"))

    assert page.status_code == 200
    assert "readonly" in field(page.text, "currency")
    assert "Only an administrator can change these." in page.text
    assert refused.status_code == 403
    with web.shop.engine.connect() as connection:
        assert all(v.source != "store" for v in shop_settings.read(connection, web.settings))


def test_the_policy_form_still_saves(web: Web) -> None:
    token = sign_in(web.client, web.shop.engine, "mia@shop.example", Role.MARKETER)
    form = {
        "csrf_token": token,
        "max_per_7_days": "1",
        "max_per_30_days": "4",
        "min_hours_between": "48",
        "quiet_start": "21:00",
        "quiet_end": "08:00",
    }
    saved = web.client.post("/settings", data=form)
    assert "Saved." in saved.text
    assert 'value="48"' in saved.text


@pytest.mark.parametrize("language", ["ms", "kk", "tl", "uk", "sl"])
def test_every_shop_word_is_translated(language: str) -> None:
    from relmark.interfaces.web.i18n import translations
    from relmark.interfaces.web.settings_pages import FIELD_PROBLEMS

    catalog = translations(language)
    words = [f.label for f in shop_settings.FIELDS.values()] + list(FIELD_PROBLEMS.values())
    untranslated = [w for w in words if catalog.gettext(w) == w]
    assert untranslated == []


def test_a_change_from_the_cli_shows_without_a_restart(web: Web) -> None:
    """The running app re-reads the store every few seconds: the shop name in every page's
    header follows a `relmark settings set` (here the same call the CLI makes)."""
    engine = web.shop.engine
    app = create_app(engine, Settings(secret_key="s" * 32))  # shop name not from the env
    with TestClient(app, follow_redirects=False) as client:
        sign_in(client, engine, "ana@shop.example", Role.VIEWER)
        before = client.get("/").text
        shop_settings.change(engine, {"shop_name": "Kedai Ali"}, NOW)
        cached = client.get("/").text  # within the cache's few seconds: may still be old
        app.state.live_settings.read_at -= app.state.live_settings.ttl  # those seconds pass
        after = client.get("/").text

    assert "relmark demo shop" in before
    assert "Kedai Ali" in after
    assert "relmark demo shop" not in after
    assert "Kedai Ali" in cached or "relmark demo shop" in cached
