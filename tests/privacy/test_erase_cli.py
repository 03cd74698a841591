"""`relmark privacy erase` and `relmark privacy purge` through the real CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine
from typer.testing import CliRunner

from relmark.interfaces.cli import app
from relmark.store import audit

from ..helpers import rows, run_import, write_csv

runner = CliRunner()
HEADER = ["customer_id", "email", "first_name"]
LONG_AGO = datetime(2020, 1, 10, tzinfo=UTC)


def store(engine: Engine, folder: Path) -> None:
    """Two customers who last bought in 2020, one of them messaged recently; one buying now;
    one imported now whose source says they became a customer in 2019 and bought in 2020."""
    customers = [["OLD", "old@example.si", "Stara"], ["MSG", "msg@example.si", "Pisma"]]
    run_import(engine, "customers", write_csv(folder, "a.csv", HEADER, customers), now=LONG_AGO)
    recent = [["NEW", "new@example.si", "Nova", ""], ["HIST", "h@example.si", "Ena", "2019-03-01"]]
    run_import(engine, "customers", write_csv(folder, "b.csv", [*HEADER, "customer_since"], recent))
    header = ["order_id", "customer_id", "ordered_at", "amount", "currency"]
    orders = [
        ["1", "OLD", "2020-01-15T10:00:00Z", "10.00", "EUR"],
        ["2", "MSG", "2020-01-16T10:00:00Z", "12.00", "EUR"],
        ["3", "NEW", "2026-05-20T10:00:00Z", "14.00", "EUR"],
        ["4", "HIST", "2020-02-01T10:00:00Z", "16.00", "EUR"],
    ]
    run_import(engine, "orders", write_csv(folder, "o.csv", header, orders))
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO messages (idempotency_key, playbook, customer_id, occasion, channel, "
            "purpose, priority, status, created_at, due_at, attempts, sent_at, rfc_message_id) "
            "SELECT 'k', 'thanks', customer_id, 'o', 'email', 'service', 1, 'sent', "
            "'2026-05-01 10:00:00', '2026-05-01 10:00:00', 1, '2026-05-01 10:00:00', '<m@x>' "
            "FROM source_records WHERE external_id = 'MSG'"
        )


def url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_erase_by_email_asks_first_then_erases_and_audits(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    # given a store with a customer
    store(sqlite_engine, tmp_path)

    # when the operator declines, then confirms
    declined = runner.invoke(
        app, ["privacy", "erase", "OLD@example.si", "--db", url(sqlite_engine)], input="n\n"
    )
    still = rows(sqlite_engine, "SELECT COUNT(*) FROM customers WHERE email = 'old@example.si'")
    confirmed = runner.invoke(
        app,
        ["privacy", "erase", "old@example.si", "--reason", "ticket 42", "--db", url(sqlite_engine)],
        input="y\n",
    )

    # then nothing changed the first time, and the second erased the customer and said so
    assert declined.exit_code == 1
    assert still == [(1,)]
    assert confirmed.exit_code == 0, confirmed.output
    assert "erased" in confirmed.output
    assert rows(sqlite_engine, "SELECT COUNT(*) FROM customers WHERE email = 'old@example.si'") == [
        (0,)
    ]
    with sqlite_engine.connect() as connection:
        [entry] = audit.entries(connection)
    assert (entry["action"], entry["actor_kind"]) == ("privacy.erase", "cli")
    assert entry["detail"]["reason"] == "ticket 42"
    assert "old@example.si" not in json.dumps(entry, default=str)


def test_erase_of_an_unknown_customer_is_a_clear_error(sqlite_engine: Engine) -> None:
    result = runner.invoke(
        app, ["privacy", "erase", "nobody@example.si", "--yes", "--db", url(sqlite_engine)]
    )
    assert result.exit_code == 1
    assert "no customer with that e-mail address" in result.output


def test_purge_lists_first_dry_run_erases_nothing_then_erases_the_inactive(
    engine: Engine, tmp_path: Path
) -> None:
    # given two customers inactive since 2020 (one imported only now), one whose last
    # message was sent this year, and one buying now
    store(engine, tmp_path)
    old = rows(
        engine,
        "SELECT customer_id FROM source_records WHERE external_id IN ('OLD', 'HIST') "
        "ORDER BY external_id DESC",
    )

    # when a dry run lists, then a real purge runs
    listing = runner.invoke(
        app,
        ["privacy", "purge", "--inactive-for", "3y", "--dry-run", "--json"] + ["--db", url(engine)],
    )
    unchanged = rows(engine, "SELECT COUNT(*) FROM customers WHERE erased_at IS NOT NULL")
    purged = runner.invoke(
        app, ["privacy", "purge", "--inactive-for", "3y", "--yes", "--db", url(engine)]
    )

    # then only the inactive ones were listed (longest inactive first) and erased, and the
    # run is audited
    assert listing.exit_code == 0, listing.output
    assert [c["customer_id"] for c in json.loads(listing.output)["customers"]] == [
        old[0][0],
        old[1][0],
    ]
    assert unchanged == [(0,)]
    assert purged.exit_code == 0, purged.output
    assert f"  {old[0][0]}  last activity 2020-01-15" in purged.output
    erased = rows(engine, "SELECT id FROM customers WHERE erased_at IS NOT NULL ORDER BY id")
    assert erased == sorted(old)
    with engine.connect() as connection:
        actions = [e["action"] for e in audit.entries(connection)]
    assert actions == ["privacy.purge", "privacy.erase", "privacy.erase"]


def test_purge_refuses_a_duration_it_cannot_read(sqlite_engine: Engine) -> None:
    result = runner.invoke(
        app, ["privacy", "purge", "--inactive-for", "3 decades", "--db", url(sqlite_engine)]
    )
    assert result.exit_code == 1
    assert "a duration such as 3y, 18m, 6w or 400d" in result.output


def test_an_identities_export_relmark_wrote_loses_the_erased_rows(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    # given an identities export written by relmark
    store(sqlite_engine, tmp_path)
    export = tmp_path / "ids.csv"
    written = runner.invoke(
        app, ["export", "identities", "--out", str(export), "--db", url(sqlite_engine)]
    )
    assert written.exit_code == 0, written.output
    assert "OLD" in export.read_text()

    # when a customer is erased
    runner.invoke(app, ["privacy", "erase", "old@example.si", "--yes", "--db", url(sqlite_engine)])

    # then the export lost their row and kept the others
    lines = export.read_text().splitlines()
    assert sorted(line.split(",")[1] for line in lines[1:]) == ["HIST", "MSG", "NEW"]


def test_erase_names_unmerged_profiles_with_the_same_email(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    # given two profiles with one e-mail that identity resolution has not merged (yet)
    twins = [["D1", "twin@example.si", "Ena"], ["D2", "TWIN@example.si", "Dva"]]
    run_import(sqlite_engine, "customers", write_csv(tmp_path, "d.csv", HEADER, twins))
    [(first,), (second,)] = rows(
        sqlite_engine, "SELECT customer_id FROM source_records ORDER BY external_id"
    )

    # when the e-mail names them both, then one is erased by id
    ambiguous = runner.invoke(
        app, ["privacy", "erase", "twin@example.si", "--yes", "--db", url(sqlite_engine)]
    )
    erased = runner.invoke(
        app, ["privacy", "erase", str(first), "--yes", "--db", url(sqlite_engine)]
    )

    # then the operator is told about the other instead of a guess
    assert ambiguous.exit_code == 1
    assert f"belongs to several customers: {first}, {second}" in ambiguous.output
    assert erased.exit_code == 0, erased.output
    assert f"customers {second} hold the same e-mail or phone" in " ".join(erased.output.split())
