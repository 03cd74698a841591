"""`relmark users` and `relmark keys`: passwords from stdin, keys shown once, hashes kept."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from relmark import accounts
from relmark.interfaces.cli import app
from relmark.store.db import make_engine

from ..helpers import new_store

runner = CliRunner()


def test_users_and_keys_from_the_command_line(tmp_path) -> None:
    db = new_store(tmp_path / "s.db")
    added = runner.invoke(
        app,
        ["users", "add", "Mia@Example.com", "--role", "analyst", "--db", db],
        input="a long enough password\n",
    )
    assert added.exit_code == 0, added.output
    weak = runner.invoke(app, ["users", "add", "x@example.com", "--db", db], input="short\n")
    assert weak.exit_code == 1
    assert "at least 10" in weak.output
    wrong_role = runner.invoke(app, ["users", "add", "y@example.com", "--role", "boss", "--db", db])
    assert wrong_role.exit_code == 1
    listed = json.loads(runner.invoke(app, ["users", "list", "--db", db, "--json"]).stdout)
    assert [(u["email"], u["role"]) for u in listed] == [("mia@example.com", "analyst")]
    table = runner.invoke(app, ["users", "list", "--db", db]).output
    assert "mia@example.com" in table

    created = json.loads(
        runner.invoke(
            app, ["keys", "create", "--role", "ingest", "--name", "web", "--db", db, "--json"]
        ).stdout
    )
    engine = make_engine(db)
    assert accounts.check_key(engine, created["key"]).role == "ingest"
    keys = json.loads(runner.invoke(app, ["keys", "list", "--db", db, "--json"]).stdout)
    assert created["key"] not in json.dumps(keys, default=str)  # only a prefix is shown
    assert keys[0]["prefix"] == created["key"][:10]
    assert runner.invoke(app, ["keys", "revoke", str(created["id"]), "--db", db]).exit_code == 0
    assert accounts.check_key(engine, created["key"]) is None
    again = runner.invoke(app, ["keys", "revoke", str(created["id"]), "--db", db])
    assert "no active key" in again.output
