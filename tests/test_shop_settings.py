"""The shop's settings in the store: environment over store over default, validated, audited,
and used by the CLI, the engine and every message (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from relmark import shop_settings
from relmark.config import Settings
from relmark.errors import InvalidInput
from relmark.interaction import Interaction
from relmark.interfaces.cli import app
from relmark.store.audit import Actor, entries
from relmark.store.kv import settings_with_prefix

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
runner = CliRunner()


def stored(engine: Engine) -> dict[str, object]:
    with engine.connect() as connection:
        return settings_with_prefix(connection, shop_settings.PREFIX)


def by_key(values: list[shop_settings.Value]) -> dict[str, tuple[object, str]]:
    return {v.key: (v.value, v.source) for v in values}


def test_environment_wins_over_the_store_which_wins_over_the_default(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RELMARK_SHOP_NAME", raising=False)
    monkeypatch.delenv("RELMARK_CURRENCY", raising=False)
    before = by_key(shop_settings.effective(engine, Settings()))
    shop_settings.change(engine, {"shop_name": "Kedai Ali", "currency": "myr"}, NOW)
    from_store = by_key(shop_settings.effective(engine, Settings()))
    monkeypatch.setenv("RELMARK_SHOP_NAME", "Env Shop")
    overridden = shop_settings.effective(engine, Settings())

    assert before["shop_name"] == ("relmark demo shop", "default")
    assert from_store["shop_name"] == ("Kedai Ali", "store")
    assert from_store["currency"] == ("MYR", "store")  # kept upper-case
    name = next(v for v in overridden if v.key == "shop_name")
    assert (name.value, name.source, name.stored) == ("Env Shop", "env", "Kedai Ali")
    assert by_key(overridden)["currency"] == ("MYR", "store")
    effective = shop_settings.effective_settings(engine, Settings())
    assert (effective.shop_name, effective.currency) == ("Env Shop", "MYR")


def test_a_bad_value_names_its_key_and_why_and_nothing_is_saved(engine: Engine) -> None:
    shop_settings.change(engine, {"shop_name": "Kedai Ali"}, NOW)
    trail_before = len(entries_of(engine))

    with pytest.raises(InvalidInput) as caught:
        shop_settings.change(
            engine,
            {
                "shop_name": "Other",  # good, but must not be saved either
                "public_url": "ftp://shop.example",
                "shop_url": "https://",
                "smtp_from": "not an address",
                "reply_to": "a@b.example, c@d.example",
                "currency": "XYZ",
                "timezone": "Europe/Atlantis",
                "logo_url": "javascript:alert(1)",
                "colour": "red",
            },
            NOW,
        )

    problems = {p.where: p.message for p in caught.value.problems}
    assert set(problems) == {
        "public_url",
        "shop_url",
        "smtp_from",
        "reply_to",
        "currency",
        "timezone",
        "logo_url",
        "colour",
    }
    assert "http:// or https://" in problems["public_url"]
    assert "no host name" in problems["shop_url"]
    assert "ISO 4217" in problems["currency"]
    assert "IANA time zone" in problems["timezone"]
    assert "no such shop setting" in problems["colour"]
    assert stored(engine) == {"shop:shop_name": "Kedai Ali"}
    assert len(entries_of(engine)) == trail_before


def test_line_breaks_cannot_smuggle_mail_headers(engine: Engine) -> None:
    with pytest.raises(InvalidInput, match="line break"):
        shop_settings.change(engine, {"reply_to": "a@shop.example\r\nBcc: x@evil.example"}, NOW)
    with pytest.raises(InvalidInput, match="did you mean Asia/Kuala_Lumpur"):
        shop_settings.validate("timezone", "asia/kuala_lumpur")


@pytest.mark.parametrize(
    "url",
    ["https://user:pass@shop.example", "https://admin@shop.example/x", "http://:pw@h.example"],
)
def test_a_url_with_a_user_name_or_password_is_refused(engine: Engine, url: str) -> None:
    for key in ("public_url", "shop_url", "logo_url"):
        with pytest.raises(InvalidInput) as caught:
            shop_settings.change(engine, {key: url}, NOW)
        [problem] = caught.value.problems
        assert problem.where == key
        assert "user name or password" in problem.message
    assert stored(engine) == {}
    # a stored one (written before this check) is passed over, not put in every message
    with engine.begin() as connection:
        from relmark.store.kv import put_setting

        put_setting(connection, "shop:shop_url", url, NOW)
    values = {v.key: v for v in shop_settings.effective(engine, Settings())}
    assert values["shop_url"].source == "default"


def entries_of(engine: Engine) -> list[dict]:
    with engine.connect() as connection:
        return entries(connection)


def test_each_change_is_audited_with_its_keys_not_its_values(engine: Engine) -> None:
    actor = Actor("user", "ana@shop.example", "10.0.0.1")
    shop_settings.change(engine, {"smtp_from": "Kedai <hi@kedai.example>"}, NOW, actor)
    shop_settings.change(engine, {"smtp_from": "Kedai <hi@kedai.example>"}, NOW, actor)  # same
    shop_settings.change(engine, {"smtp_from": None, "currency": "EUR"}, NOW)

    trail = [e for e in entries_of(engine) if e["action"] == "settings.change"]
    assert [(e["actor"], e["detail"]) for e in reversed(trail)] == [
        ("ana@shop.example", {"keys": ["smtp_from"]}),
        (Actor.cli().name, {"keys": ["currency", "smtp_from"]}),
    ]
    assert "hi@kedai.example" not in json.dumps(trail, default=str)
    assert stored(engine) == {"shop:currency": "EUR"}


def test_the_engine_reads_the_store_per_operation(engine: Engine) -> None:
    relmark = Interaction(engine, Settings(secret_key="s" * 32))
    first = relmark.branding()
    shop_settings.change(
        engine,
        {
            "shop_name": "Kedai Ali",
            "smtp_from": "Kedai Ali <hello@kedai.example>",
            "reply_to": "help@kedai.example",
            "logo_url": "https://kedai.example/logo.png",
            "timezone": "Asia/Kuala_Lumpur",
        },
        NOW,
    )
    second = relmark.branding()  # the same object, no restart

    assert (first.shop_name, first.mail_domain) == ("relmark demo shop", "relmark.invalid")
    assert (second.shop_name, second.mail_domain) == ("Kedai Ali", "kedai.example")
    assert second.reply_to == "help@kedai.example"
    assert second.logo_url == "https://kedai.example/logo.png"
    assert second.default_zone == "Asia/Kuala_Lumpur"


def test_cli_set_show_unset(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RELMARK_SHOP_URL", raising=False)
    monkeypatch.setenv("RELMARK_CURRENCY", "EUR")
    assert runner.invoke(app, ["init", "--db", store_url]).exit_code == 0

    saved = runner.invoke(
        app,
        ["settings", "set", "shop_url=https://kedai.example", "currency=MYR", "--db", store_url],
    )
    shown = runner.invoke(app, ["settings", "show", "--json", "--db", store_url])
    bad = runner.invoke(app, ["settings", "set", "shop_url=kedai.example", "--db", store_url])
    unset = runner.invoke(app, ["settings", "unset", "shop_url", "--db", store_url])
    after = runner.invoke(app, ["settings", "show", "--json", "--db", store_url])

    assert saved.exit_code == 0, saved.output
    assert "2 setting(s) changed" in saved.output
    assert "RELMARK_CURRENCY is set in the environment" in saved.output
    rows = {r["key"]: r for r in json.loads(shown.stdout)}
    assert (rows["shop_url"]["value"], rows["shop_url"]["source"]) == (
        "https://kedai.example",
        "store",
    )
    assert (rows["currency"]["value"], rows["currency"]["source"]) == ("EUR", "env")
    assert rows["currency"]["stored"] == "MYR"
    assert rows["shop_name"]["source"] == "default"
    assert bad.exit_code == 1
    assert "shop_url: 'kedai.example' is not a web address" in bad.output
    assert "nothing was changed" in bad.output
    assert unset.exit_code == 0
    assert {r["key"]: r["source"] for r in json.loads(after.stdout)}["shop_url"] == "default"
