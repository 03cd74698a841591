"""`explain-message` and `explain-merge` take an e-mail address as well as a customer id;
the address of a merged profile names the survivor, an unknown one is a clear error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from relmark.interfaces.cli import app

from ..helpers import write_csv
from .conftest import SECRET, book

runner = CliRunner()
HEADER = ["customer_id", "email", "phone", "country", "first_name", "email_consent"]


@pytest.fixture
def merged(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Ana twice (same phone, two addresses: merged by identity resolution), and two
    different people who typed the same shared address."""
    db = ["--db", engine.url.render_as_string(hide_password=False)]
    path = write_csv(
        tmp_path,
        "c.csv",
        HEADER,
        [
            ["A", "ana@example.com", "+44 20 7946 0958", "GB", "Ana", "yes"],
            ["B", "ana.work@example.org", "+44 20 7946 0958", "GB", "Ana", "yes"],
            ["C", "family@example.net", "+44 20 7946 0001", "GB", "Cy", "yes"],
            ["D", "family@example.net", "+44 20 7946 0002", "GB", "Di", "yes"],
        ],
    )
    imported = runner.invoke(app, ["import", "customers", str(path), *db, "--json"])
    assert imported.exit_code == 0, imported.output
    folder = tmp_path / "books"
    folder.mkdir()
    (folder / "promo.toml").write_text(book("promo"), encoding="utf-8")
    monkeypatch.setenv("RELMARK_SECRET_KEY", SECRET)
    from relmark.config import get_settings

    get_settings.cache_clear()
    yield db + ["--playbooks", str(folder)]
    get_settings.cache_clear()


def survivor_and_absorbed(db: list[str]) -> tuple[int, int]:
    shown = runner.invoke(app, ["explain-merge", "ana@example.com", *db[:2], "--json"])
    assert shown.exit_code == 0, shown.output
    [merge] = json.loads(shown.stdout)
    return merge["survivor_id"], merge["absorbed_id"]


def test_explain_merge_by_the_address_of_either_profile(merged: list[str]) -> None:
    db = merged[:2]
    survivor, absorbed = survivor_and_absorbed(merged)
    for address in ("ana@example.com", "ANA.WORK@example.org"):
        shown = runner.invoke(app, ["explain-merge", address, *db])
        assert shown.exit_code == 0, shown.output
        assert f"customer {absorbed} → {survivor}" in shown.stdout
    by_id = runner.invoke(app, ["explain-merge", str(absorbed), *db])
    assert f"customer {absorbed} → {survivor}" in by_id.stdout  # ids work as before


def test_explain_message_by_address_explains_the_survivor(merged: list[str]) -> None:
    survivor, absorbed = survivor_and_absorbed(merged)
    as_of = ["--as-of", "2026-06-01T12:00:00Z"]
    by_mail = runner.invoke(
        app, ["explain-message", "ana.work@example.org", "promo", *as_of, *merged]
    )
    assert by_mail.exit_code == 0, by_mail.output
    assert f"customer {survivor}, playbook promo" in by_mail.stdout
    as_json = runner.invoke(
        app, ["explain-message", "ana@example.com", "promo", *as_of, *merged, "--json"]
    )
    assert json.loads(as_json.stdout)["customer_id"] == survivor
    by_old_id = runner.invoke(app, ["explain-message", str(absorbed), "promo", *merged])
    assert by_old_id.exit_code == 1
    assert f"was merged into {survivor}" in by_old_id.output  # an id means that profile


def test_unknown_shared_or_malformed_references_are_clear_errors(merged: list[str]) -> None:
    db = merged[:2]
    cases = [
        (["explain-merge", "nobody@example.com", *db], "no customer with that e-mail address"),
        (["explain-message", "nobody@example.com", "promo", *merged], "nobody@example.com"),
        (["explain-message", "family@example.net", "promo", *merged], "several customers"),
        (["explain-merge", "ana", *db], "'ana' is neither a customer id nor an e-mail address"),
        (["explain-message", "-", "promo", *merged], "neither a customer id nor an e-mail"),
    ]
    for args, message in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 1, (args, result.output)
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output
