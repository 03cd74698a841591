"""The audit trail is append-only on every backend and filters by customer and time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, update
from sqlalchemy.exc import DBAPIError

from relmark.store.audit import AUDIT, Actor, entries, record

from .helpers import new_store


def test_entries_are_recorded_and_filtered(engine) -> None:  # noqa: ANN001
    # given three acts, two on customer 7, one a day earlier
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    with engine.begin() as connection:
        record(connection, Actor.cli(), "customer.export", customer_id=7, at=now)
        record(
            connection,
            Actor("user", "ana@shop.example", "10.0.0.5"),
            "customer.view",
            customer_id=8,
            at=now,
        )
        record(
            connection,
            Actor.engine(),
            "policy.change",
            customer_id=7,
            detail={"fields": ["quiet_hours"]},
            at=now - timedelta(days=1),
        )

    # when the trail is read for customer 7 since this morning
    with engine.connect() as connection:
        recent = entries(connection, customer_id=7, since=now - timedelta(hours=1))
        every = entries(connection, customer_id=7)

    # then only that act is listed, and the filter on the customer alone finds both
    assert [(e["action"], e["actor_kind"]) for e in recent] == [("customer.export", "cli")]
    assert [e["action"] for e in every] == ["customer.export", "policy.change"]
    assert every[1]["detail"] == {"fields": ["quiet_hours"]}


@pytest.mark.parametrize("change", ["update", "delete"])
def test_the_trail_refuses_to_be_rewritten(engine, change: str) -> None:  # noqa: ANN001
    # given one entry
    with engine.begin() as connection:
        record(connection, Actor.cli(), "customer.erase", customer_id=1)

    # when anyone tries to rewrite or remove it, the database itself refuses
    statement = update(AUDIT).values(actor="someone else") if change == "update" else delete(AUDIT)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(statement)

    # and the entry is still there, unchanged
    with engine.connect() as connection:
        assert [e["actor_kind"] for e in entries(connection)] == ["cli"]


def test_an_unknown_actor_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown actor kind"):
        Actor("robot", "r2")


def test_an_import_from_the_command_line_is_in_the_trail(tmp_path) -> None:  # noqa: ANN001
    from typer.testing import CliRunner

    from relmark.interfaces.cli import app
    from relmark.store.db import make_engine

    # given a customers file
    path = tmp_path / "people.csv"
    path.write_text("customer_id,email\nK1,k1@example.com\n", encoding="utf-8")
    db = new_store(tmp_path / "store.db")

    # when it is imported by the CLI user
    result = CliRunner().invoke(app, ["import", "customers", str(path), "--db", db])

    # then the trail names the import, the operating-system user and what changed
    assert result.exit_code == 0, result.output
    engine = make_engine(db)
    with engine.connect() as connection:
        [entry] = entries(connection)
    engine.dispose()
    assert (entry["action"], entry["actor_kind"]) == ("import.customers", "cli")
    assert entry["detail"]["inserted"] == 1
    assert entry["customer_id"] is None
