"""Deterministic identity: shared normalised keys make one profile; merges are explained,
consent-safe, stable as records arrive, and undoable."""

from __future__ import annotations

import csv
from collections import Counter

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from relmark import pipeline
from relmark.errors import RelmarkError
from relmark.interfaces.cli import app
from relmark.store.db import bulk_transaction
from relmark.store.identity import effective_consents, merges_of, unmerge

from ..conftest import NOW
from ..helpers import new_store, rows, run_import, write_csv

HEADER = ["customer_id", "email", "phone", "country", "first_name", "email_consent"]


def live(engine: Engine) -> list[int]:
    return [
        r[0]
        for r in rows(engine, "SELECT id FROM customers WHERE merged_into_id IS NULL ORDER BY id")
    ]


@pytest.fixture
def two_sources(engine: Engine, tmp_path) -> Engine:
    run_import(
        engine,
        "customers",
        write_csv(
            tmp_path,
            "web.csv",
            HEADER,
            [
                ["W1", "ana@example.si", "031 234 567", "SI", "Ana", "yes"],
                ["W2", "bo@example.my", "", "MY", "Bo", "yes"],
                ["W3", "n/a", "", "MY", "Cy", ""],
            ],
        ),
        source="web",
    )
    run_import(
        engine,
        "customers",
        write_csv(
            tmp_path,
            "shop.csv",
            HEADER,
            [
                ["S1", " ANA@Example.SI ", "", "SI", "ana", "opt-out"],  # same e-mail, other case
                ["S2", "", "+386 31 234 567", "SI", "Anna", ""],  # same phone, other format
                ["S3", "n/a", "", "MY", "Dee", ""],  # a placeholder is no key
            ],
        ),
        source="shop",
    )
    run_import(
        engine,
        "orders",
        write_csv(
            tmp_path,
            "orders.csv",
            ["order_id", "customer_id", "ordered_at", "amount"],
            [["1", "S1", "2026-01-01", "10"]],
        ),
        source="shop",
    )
    return engine


def test_shared_email_or_phone_makes_one_profile(two_sources: Engine) -> None:
    report = pipeline.identify(two_sources, now=NOW)

    assert report.merges == 2
    assert report.flagged == 2
    assert live(two_sources) == [1, 2, 3, 6]
    assert rows(
        two_sources,
        "SELECT customer_id FROM source_records WHERE external_id IN "
        "('W1', 'S1', 'S2') ORDER BY id",
    ) == [(1,), (1,), (1,)]
    assert rows(two_sources, "SELECT customer_id FROM orders") == [(1,)]
    evidence = {m["absorbed_id"]: m["evidence"] for m in _merges(two_sources, 1)}
    assert evidence == {4: {"email": ["ana@example.si"]}, 5: {"phone": ["+38631234567"]}}
    kinds = rows(
        two_sources,
        "SELECT kind, COUNT(*) FROM customer_events WHERE kind = 'customer_merged' GROUP BY kind",
    )
    assert kinds == [("customer_merged", 4)]


def _merges(engine: Engine, customer: int) -> list[dict]:
    with engine.connect() as connection:
        return merges_of(connection, customer)


def test_merging_never_widens_consent(two_sources: Engine) -> None:
    pipeline.identify(two_sources, now=NOW)

    with two_sources.connect() as connection:
        consents = effective_consents(connection, 1)

    assert [(c["purpose"], c["channel"], c["status"]) for c in consents] == [
        ("marketing", "email", "withdrawn")
    ]
    assert "shop.csv:2" in consents[0]["proof"]


def test_later_records_join_the_existing_profile(two_sources: Engine, tmp_path) -> None:
    pipeline.identify(two_sources, now=NOW)
    run_import(
        two_sources,
        "customers",
        write_csv(tmp_path, "news.csv", HEADER, [["N1", "Bo@Example.MY", "", "MY", "Bo", ""]]),
        source="newsletter",
    )

    report = pipeline.identify(two_sources, now=NOW)

    assert report.merges == 1
    assert live(two_sources) == [1, 2, 3, 6]  # ids of existing profiles do not churn
    assert rows(two_sources, "SELECT customer_id FROM source_records WHERE external_id = 'N1'") == [
        (2,)
    ]


def test_unmerge_restores_records_orders_and_consents_and_sticks(two_sources: Engine) -> None:
    pipeline.identify(two_sources, now=NOW)

    with bulk_transaction(two_sources) as connection:
        restored = unmerge(connection, 4, NOW)
    again = pipeline.identify(two_sources, now=NOW)

    assert restored == [4]
    assert again.merges == 0
    assert rows(two_sources, "SELECT customer_id FROM source_records WHERE external_id = 'S1'") == [
        (4,)
    ]
    assert rows(two_sources, "SELECT customer_id FROM orders") == [(4,)]
    assert rows(
        two_sources, "SELECT DISTINCT customer_id FROM consents WHERE source_record_id = 4"
    ) == [(4,)]
    assert live(two_sources) == [1, 2, 3, 4, 6]
    with two_sources.connect() as connection:
        assert effective_consents(connection, 1)[0]["status"] == "granted"


def test_unmerge_of_what_was_never_merged_says_so(two_sources: Engine) -> None:
    with (
        bulk_transaction(two_sources) as connection,
        pytest.raises(RelmarkError, match="customer 3 was never merged: nothing to undo"),
    ):
        unmerge(connection, 3, NOW)
    with (
        bulk_transaction(two_sources) as connection,
        pytest.raises(RelmarkError, match="no customer 999"),
    ):
        unmerge(connection, 999, NOW)


def test_keys_option_limits_what_counts(two_sources: Engine) -> None:
    report = pipeline.identify(two_sources, now=NOW, keys=("email",))

    assert report.merges == 1
    assert 5 in live(two_sources)


def test_identity_commands(tmp_path) -> None:
    runner = CliRunner()
    db = new_store(tmp_path / "s.db")
    path = write_csv(
        tmp_path,
        "c.csv",
        HEADER,
        [["A", "x@example.com", "", "GB", "X", ""], ["B", "X@example.com", "", "GB", "X", ""]],
    )

    imported = runner.invoke(app, ["import", "customers", str(path), "--db", db, "--json"])
    explained = runner.invoke(app, ["explain-merge", "2", "--db", db])
    exported = runner.invoke(
        app, ["export", "identities", "--out", str(tmp_path / "ids.csv"), "--db", db]
    )
    undone = runner.invoke(app, ["unmerge", "2", "--db", db])
    twice = runner.invoke(app, ["unmerge", "2", "--db", db])

    assert imported.exit_code == 0, imported.output
    assert '"merges": 1' in imported.stdout
    assert "customer 2 → 1; same email: x@example.com" in explained.stdout
    assert exported.exit_code == 0
    with (tmp_path / "ids.csv").open() as handle:
        assert list(csv.reader(handle)) == [
            ["source", "external_id", "customer_id"],
            ["default", "A", "1"],
            ["default", "B", "1"],
        ]
    assert undone.exit_code == 0
    assert twice.exit_code == 1
    assert "customer 2's merges are already undone" in twice.output


def test_demo_duplicates_are_found_precisely(engine: Engine, tmp_path) -> None:
    from datetime import UTC, datetime

    from relmark.demo.build import load, write_files
    from relmark.demo.generate import generate

    as_of = datetime(2026, 10, 1, tzinfo=UTC)
    data = generate(2000, seed=21, as_of=as_of)
    write_files(data, tmp_path)
    load(engine, data, tmp_path, now=as_of)

    pipeline.identify(engine, now=as_of)

    truth = rows(
        engine,
        "SELECT t.truth, r.customer_id FROM demo_truth t JOIN source_records r "
        "ON t.key = r.source || ':' || r.external_id WHERE t.entity = 'customer'",
    )

    def pairs(counts: Counter) -> int:
        return sum(n * (n - 1) // 2 for n in counts.values())

    true_pairs = pairs(Counter(person for person, _ in truth))
    found_pairs = pairs(Counter(profile for _, profile in truth))
    right_pairs = pairs(Counter(truth))  # same person and same profile
    assert right_pairs / found_pairs >= 0.98  # precision
    assert right_pairs / true_pairs >= 0.90  # recall


def test_a_shared_key_with_different_first_names_goes_to_review(engine: Engine, tmp_path) -> None:
    run_import(
        engine,
        "customers",
        write_csv(
            tmp_path,
            "c.csv",
            HEADER,
            [
                ["A", "salleh.family@example.my", "", "MY", "Sofea", ""],
                ["B", "Salleh.Family@example.my", "", "MY", "Syafiq", ""],
                ["C", "nur@example.my", "", "MY", "Nur", ""],
                ["D", "NUR@example.my", "", "MY", "N", ""],  # an initial is alike
            ],
        ),
    )

    report = pipeline.identify(engine, now=NOW)

    assert report.merges == 1
    assert live(engine) == [1, 2, 3]
    assert report.queued_for_review == 1
    queued = rows(engine, "SELECT customer_a, customer_b, probability, status FROM review_pairs")
    assert queued == [(1, 2, None, "pending")]


def test_review_commands_decide_a_queued_pair(tmp_path) -> None:
    import json

    runner = CliRunner()
    db = new_store(tmp_path / "s.db")
    path = write_csv(
        tmp_path,
        "c.csv",
        HEADER,
        [
            ["A", "family@example.si", "", "SI", "Ana", ""],
            ["B", "family@example.si", "", "SI", "Rok", ""],
        ],
    )
    runner.invoke(app, ["import", "customers", str(path), "--db", db])

    listed = json.loads(runner.invoke(app, ["review", "list", "--db", db, "--json"]).stdout)
    accepted = runner.invoke(app, ["review", "accept", str(listed[0]["id"]), "--db", db])
    again = runner.invoke(app, ["review", "reject", str(listed[0]["id"]), "--db", db])
    unknown = runner.invoke(app, ["review", "accept", "999", "--db", db])

    assert [(r["customer_a"], r["customer_b"]) for r in listed] == [(1, 2)]
    assert "merged customers 1 and 2" in accepted.stdout
    assert again.exit_code == 1
    assert "review pair 1 was already accepted" in again.output
    assert "no review pair 999" in unknown.output
