"""`relmark restrict --reason` and the CLI's customer view (`relmark consent show`): the
restriction is shown to staff and recorded with the CLI user as actor."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine
from typer.testing import CliRunner

from relmark.interfaces.cli import app
from relmark.store.audit import entries

from .conftest import Shop

runner = CliRunner()


def test_restrict_with_a_reason_shows_in_the_customer_view(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    # given a customer
    shop = Shop(sqlite_engine, tmp_path)
    shop.customers([["C1", "ana@example.com", "", "Ana", "en", "GB", "UTC", "", "", "yes"]])
    customer = str(shop.id_of("C1"))
    db = ["--db", str(sqlite_engine.url)]

    # when staff restrict her with a reason and look at her
    done = runner.invoke(app, ["restrict", customer, "--reason", "contests the data", *db])
    shown = runner.invoke(app, ["consent", "show", customer, *db])
    as_json = json.loads(runner.invoke(app, ["consent", "show", customer, *db, "--json"]).stdout)

    # then the view says restricted, with the reason, and the act is in the audit trail
    assert done.exit_code == 0, done.output
    text = " ".join(shown.output.split())
    assert "RESTRICTED since" in text
    assert "(contests the data)" in text
    assert as_json["restriction"]["restricted"] is True
    assert as_json["restriction"]["reason"] == "contests the data"
    with sqlite_engine.connect() as connection:
        [entry] = entries(connection, customer_id=int(customer))
    assert (entry["action"], entry["actor_kind"]) == ("customer.restrict", "cli")
    assert entry["detail"]["reason_given"] is True

    # and after lifting, the view no longer says so
    runner.invoke(app, ["restrict", customer, "--lift", *db])
    assert "RESTRICTED" not in runner.invoke(app, ["consent", "show", customer, *db]).output
