"""Probabilistic identity: names across scripts, merges above the threshold, a review queue
for the uncertain band whose decisions stick."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from relmark import pipeline
from relmark.demo.build import load, write_files
from relmark.demo.generate import generate
from relmark.errors import RelmarkError
from relmark.identify.probabilistic import latin
from relmark.store.db import bulk_transaction
from relmark.store.identity import decide, reviews

from ..helpers import rows, run_import, write_csv

AS_OF = datetime(2026, 10, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Олександр", "oleksandr"),
        ("ОЛІЙНИК", "oliynyk"),
        ("Айгерім", "aygerim"),
        ("Нұрсұлтан", "nursultan"),
        ("Žiga Kovačič", "ziga kovacic"),
        ("  dela  Cruz ", "dela cruz"),
        ("", None),
        (None, None),
    ],
)
def test_names_compare_in_one_script(raw, expected) -> None:
    assert latin(raw) == expected


@pytest.fixture
def demo_store(engine: Engine, tmp_path) -> Engine:
    data = generate(2000, seed=21, as_of=AS_OF)
    write_files(data, tmp_path)
    load(engine, data, tmp_path, now=AS_OF)
    return engine


def test_probabilistic_model_adds_matches_exact_keys_missed(demo_store: Engine) -> None:
    exact_only = pipeline.identify(demo_store, now=AS_OF, probabilistic=False)
    both = pipeline.identify(demo_store, now=AS_OF)

    assert exact_only.merges > 0
    assert both.probabilistic_merges > 0
    kinds = dict(rows(demo_store, "SELECT kind, COUNT(*) FROM merges GROUP BY kind"))
    assert kinds["probabilistic"] == both.probabilistic_merges
    evidence = rows(
        demo_store, "SELECT evidence, probability FROM merges WHERE kind = 'probabilistic'"
    )
    assert all(probability >= 0.95 for _, probability in evidence)


def test_review_decisions_merge_or_keep_apart_for_good(demo_store: Engine) -> None:
    pipeline.identify(demo_store, now=AS_OF, threshold=0.99999, review_band=(0.01, 0.99999))
    with demo_store.connect() as connection:
        pending = reviews(connection)
    assert len(pending) >= 2
    first, second = pending[0], pending[1]

    with bulk_transaction(demo_store) as connection:
        decide(connection, first["id"], True, AS_OF)
        decide(connection, second["id"], False, AS_OF)
    pipeline.identify(demo_store, now=AS_OF, threshold=0.99999, review_band=(0.01, 0.99999))

    merged = rows(demo_store, "SELECT COUNT(*) FROM merges WHERE kind = 'review'")[0][0]
    assert merged == 1
    with demo_store.connect() as connection:
        still_pending = {(r["customer_a"], r["customer_b"]) for r in reviews(connection)}
    decided = {
        (first["customer_a"], first["customer_b"]),
        (second["customer_a"], second["customer_b"]),
    }
    assert not decided & still_pending  # decided pairs are not asked again
    with (
        bulk_transaction(demo_store) as connection,
        pytest.raises(RelmarkError, match="already rejected"),
    ):
        decide(connection, second["id"], True, AS_OF)
    with (
        bulk_transaction(demo_store) as connection,
        pytest.raises(RelmarkError, match="no review pair 99999"),
    ):
        decide(connection, 99999, True, AS_OF)


def test_small_stores_skip_the_model_and_say_why(engine: Engine, tmp_path) -> None:
    run_import(
        engine,
        "customers",
        write_csv(tmp_path, "c.csv", ["customer_id", "first_name"], [["A", "Ana"], ["B", "Ana"]]),
    )

    report = pipeline.identify(engine, now=AS_OF)

    assert report.probabilistic_merges == 0
    assert report.probabilistic_skipped == ("2 records: the probabilistic model needs at least 200")
