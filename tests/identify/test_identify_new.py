"""Incremental identity: records that arrive through tracking are matched to the person the
store already knows, by exact keys, without a full identity run (issue 13)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from relmark.ingest.tracking import parse
from relmark.ingest.tracking_effects import store
from relmark.pipeline import identify, identify_new
from relmark.store.db import bulk_transaction

from ..conftest import NOW
from ..helpers import rows, run_import, write_csv

LATER = NOW + timedelta(hours=2)


def known_customer(engine: Engine, tmp_path) -> int:  # noqa: ANN001
    path = write_csv(
        tmp_path,
        "c.csv",
        ["customer_id", "email", "first_name", "phone", "country"],
        [
            ["C1", "ana.novak@example.si", "Ana", "", "SI"],
            ["C2", "bor@example.si", "Bor", "", "SI"],
        ],
    )
    run_import(engine, "customers", path)
    identify(engine, now=NOW)
    return int(rows(engine, "SELECT customer_id FROM source_records WHERE external_id='C1'")[0][0])


def track(engine: Engine, batch: list[dict]) -> None:
    messages = parse({"batch": batch}, None, currency="EUR", now=LATER)
    with bulk_transaction(engine) as connection:
        store(connection, messages, LATER)


def order_by_new_visitor(engine: Engine, email: str) -> None:
    track(
        engine,
        [
            {
                "type": "identify",
                "anonymousId": "anon-9",
                "messageId": "m1",
                "traits": {"email": email, "firstName": "Ana"},
            },
            {
                "type": "track",
                "anonymousId": "anon-9",
                "event": "Order Completed",
                "messageId": "m2",
                "properties": {"order_id": "W-1", "total": 30},
            },
        ],
    )


def test_a_tracked_order_by_a_known_address_ends_on_the_known_customer(
    engine: Engine, tmp_path
) -> None:  # noqa: ANN001
    known = known_customer(engine, tmp_path)
    order_by_new_visitor(engine, "  Ana.Novak@EXAMPLE.si ")
    visitor = rows(engine, "SELECT customer_id FROM orders WHERE external_id = 'W-1'")[0][0]
    assert visitor != known  # tracking alone keeps the visitor apart

    report = identify_new(engine, now=LATER)

    assert report.mode == "incremental"
    assert report.records_keyed == 1
    assert [(m["survivor_id"], m["absorbed_id"]) for m in report.merges] == [(known, visitor)]
    assert rows(engine, "SELECT customer_id FROM orders WHERE external_id = 'W-1'") == [(known,)]
    assert rows(engine, "SELECT merged_into_id FROM customers WHERE id = :v", v=visitor) == [
        (known,)
    ]
    assert rows(engine, "SELECT kind FROM merges") == [("exact",)]
    # the other customer is untouched, and a second run finds nothing new
    assert identify_new(engine, now=LATER).mode == "nothing new"
    assert rows(engine, "SELECT COUNT(*) FROM customers WHERE merged_into_id IS NULL") == [(2,)]


def test_since_narrows_and_a_stranger_stays_apart(engine: Engine, tmp_path) -> None:  # noqa: ANN001
    known_customer(engine, tmp_path)
    order_by_new_visitor(engine, "someone.else@example.si")

    assert identify_new(engine, LATER + timedelta(seconds=1), now=LATER).mode == "nothing new"
    report = identify_new(engine, LATER, now=LATER)
    assert report.records_keyed == 1
    assert report.merges == []
    assert rows(engine, "SELECT COUNT(*) FROM customers WHERE merged_into_id IS NULL") == [(3,)]


def test_a_shared_address_with_another_first_name_goes_to_review(engine: Engine, tmp_path) -> None:  # noqa: ANN001
    known_customer(engine, tmp_path)
    track(
        engine,
        [
            {
                "type": "identify",
                "anonymousId": "anon-5",
                "messageId": "m1",
                "traits": {"email": "bor@example.si", "firstName": "Vesna"},
            }
        ],
    )
    report = identify_new(engine, now=LATER)
    assert report.merges == []
    assert report.queued_for_review == 1


def test_the_cli_runs_it_once(engine: Engine, tmp_path) -> None:  # noqa: ANN001
    import json

    from typer.testing import CliRunner

    from relmark.interfaces.cli import app

    known = known_customer(engine, tmp_path)
    order_by_new_visitor(engine, "ana.novak@example.si")
    db = ["--db", engine.url.render_as_string(hide_password=False)]
    runner = CliRunner()
    bad = runner.invoke(app, ["identify-new", "--since", "yesterday", *db])
    assert bad.exit_code == 1
    assert "--since" in bad.output
    done = runner.invoke(app, ["identify-new", *db, "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output) == {
        "mode": "incremental",
        "records_keyed": 1,
        "merges": 1,
        "queued_for_review": 0,
    }
    assert rows(engine, "SELECT customer_id FROM orders WHERE external_id = 'W-1'") == [(known,)]
