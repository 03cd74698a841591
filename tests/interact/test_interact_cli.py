"""The interact commands end to end through the CLI, on a SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from relmark.interfaces.cli import app

from .conftest import SECRET, Inbox, Shop, book

runner = CliRunner()
PROMO = book(
    "promo",
    template="winback",
    offer={"discount_percent": 10, "code_prefix": "P"},
    trigger={"on": "order", "delay_days": 1},
)


@pytest.fixture
def store(
    sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Shop, list[str]]:
    shop = Shop(sqlite_engine, tmp_path)
    shop.customers(
        [
            ["C1", "ana@example.com", "", "Ana", "en", "GB", "UTC", "", "", "yes"],
            ["C2", "bo@example.com", "", "Bo", "ms", "MY", "UTC", "", "", ""],
        ]
    )
    shop.products([["TEA", "Tea", "tea", ""]])
    shop.orders(
        [
            ["O1", "C1", "2026-05-31T10:00:00Z", "EUR", "completed", "TEA", 1, "5"],
            ["O2", "C2", "2026-05-31T10:00:00Z", "EUR", "completed", "TEA", 1, "5"],
        ]
    )
    folder = tmp_path / "books"
    folder.mkdir()
    (folder / "promo.toml").write_text(PROMO, encoding="utf-8")
    monkeypatch.setenv("RELMARK_SECRET_KEY", SECRET)
    from relmark.config import get_settings

    get_settings.cache_clear()
    common = ["--db", str(sqlite_engine.url), "--playbooks", str(folder)]
    assert runner.invoke(app, ["playbooks", "enable", "promo", *common]).exit_code == 0
    yield shop, common
    get_settings.cache_clear()


def invoke(*args: str) -> object:
    return runner.invoke(app, list(args))


def test_plan_send_explain_outbox(
    store: tuple[Shop, list[str]], inbox: tuple[Inbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    shop, common = store
    server, port = inbox
    monkeypatch.setenv("RELMARK_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("RELMARK_SMTP_PORT", str(port))
    from relmark.config import get_settings

    get_settings.cache_clear()
    as_of = ["--as-of", "2026-06-01T12:00:00Z"]

    planned = runner.invoke(app, ["plan", *as_of, *common, "--json"])
    assert planned.exit_code == 0, planned.output
    summary = json.loads(planned.stdout)
    assert (summary["planned"], summary["held"]) == (1, {"no_consent": 1})

    sent = runner.invoke(app, ["send", "--once", *as_of, "--rate", "100/s", *common, "--json"])
    assert sent.exit_code == 0, sent.output
    assert json.loads(sent.stdout)["sent"] == 1
    assert len(server.messages) == 1

    why = runner.invoke(app, ["explain-message", str(shop.id_of("C2")), "promo", *as_of, *common])
    assert why.exit_code == 0, why.output
    assert "held — no_consent" in why.output

    db = common[:2]
    counts = runner.invoke(app, ["outbox", *db, "--json"])
    assert {(r["status"], r["reason"]) for r in json.loads(counts.stdout)} == {
        ("sent", None),
        ("held", "no_consent"),
    }
    uplift = runner.invoke(app, ["report", "uplift", *db, "--json"])
    assert uplift.exit_code == 0, uplift.output
    assert json.loads(uplift.stdout)["playbooks"][0]["treated"] == 1


def test_consent_commands_and_their_proof(store: tuple[Shop, list[str]]) -> None:
    shop, common = store
    db = common[:2]
    customer = str(shop.id_of("C2"))
    granted = runner.invoke(
        app, ["consent", "grant", customer, "--proof", "signed form #12", "--wording", "v2", *db]
    )
    assert granted.exit_code == 0, granted.output
    plan = runner.invoke(app, ["plan", "--as-of", "2026-06-01T12:00:00Z", *common, "--json"])
    assert json.loads(plan.stdout)["planned"] == 2
    withdrawn = runner.invoke(app, ["consent", "withdraw", customer, "--proof", "phone call", *db])
    assert "unsent messages held: 1" in withdrawn.output
    shown = runner.invoke(app, ["consent", "show", customer, *db, "--json"])
    data = json.loads(shown.stdout)
    assert [h["status"] for h in data["holds"]] == ["withdrawn"]
    assert [s["proof"] for s in data["statements"]][:2] == ["phone call", "signed form #12"]


def test_bad_input_is_one_clear_line(store: tuple[Shop, list[str]]) -> None:
    shop, common = store
    db = common[:2]
    cases = [
        (["policy", "set", "max_per_7_days=x", *db], "max_per_7_days"),
        (["policy", "set", "nonsense", *db], "is not KEY=VALUE"),
        (["consent", "grant", "999", "--proof", "x", *db], "no customer with id 999"),
        (["consent", "grant", "1", "--proof", "x", "--purpose", "spam", *db], "--purpose"),
        (["unsubscribe", "forged.token", *db], "not valid"),
        (["plan", "--as-of", "yesterday", *common], "--as-of"),
        (["plan", "--as-of", "2026-06-01T12:00:00", *common], "no UTC offset"),
        (["send", "--rate", "fast", *common], "--rate"),
        (["send", *common], "RELMARK_SMTP_HOST"),
        (["explain-message", "1", "nope", *common], "no playbook named 'nope'"),
        (["playbooks", "enable", "nope", *common], "no playbook named 'nope'"),
    ]
    for args, message in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 1, (args, result.output)
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output


def test_policy_and_playbook_switches(store: tuple[Shop, list[str]]) -> None:
    _, common = store
    db = common[:2]
    changed = runner.invoke(app, ["policy", "set", "max_per_7_days=1", "quiet_start=22:30", *db])
    assert changed.exit_code == 0, changed.output
    shown = json.loads(runner.invoke(app, ["policy", "show", *db]).stdout)
    assert (shown["max_per_7_days"], shown["quiet_start"]) == (1, "22:30:00")
    assert runner.invoke(app, ["playbooks", "disable", "promo", *common]).exit_code == 0
    listed = json.loads(runner.invoke(app, ["playbooks", "list", *common, "--json"]).stdout)
    assert listed[0]["enabled"] is False
    plan = runner.invoke(app, ["plan", "--as-of", "2026-06-01T12:00:00Z", *common, "--json"])
    assert json.loads(plan.stdout)["candidates"] == 0


def test_restrict_and_lift(store: tuple[Shop, list[str]]) -> None:
    shop, common = store
    db = common[:2]
    customer = str(shop.id_of("C1"))
    assert "restriction set" in runner.invoke(app, ["restrict", customer, *db]).output
    plan = runner.invoke(app, ["plan", "--as-of", "2026-06-01T12:00:00Z", *common, "--json"])
    assert json.loads(plan.stdout)["held"]["restricted"] == 1
    assert "lifted" in runner.invoke(app, ["restrict", customer, "--lift", *db]).output
