"""Probabilistic identity: names across scripts, merges above the threshold, a review queue
for the uncertain band whose decisions stick."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
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


def test_later_records_are_matched_incrementally_against_the_saved_model(
    engine: Engine, tmp_path
) -> None:
    from relmark.enums import ImportKind
    from relmark.ingest.importer import ImportOptions, import_file

    data = generate(2000, seed=23, as_of=AS_OF)
    write_files(data, tmp_path)
    files = data.files()

    def bring(source: str, part: slice = slice(None)) -> None:
        for name, (kind, file_source, _frame) in files.items():
            if file_source == source and kind == "customers":
                frame = pl.read_csv(tmp_path / name, infer_schema=False)[part]
                path = tmp_path / f"part-{part.start}-{name}"
                frame.write_csv(path)
                import_file(
                    engine,
                    ImportOptions(ImportKind(kind), path, source=source),
                    now=AS_OF,
                )

    pos = next(f for n, (k, src, f) in files.items() if src == "pos" and k == "customers")
    half = pos.height // 2
    bring("web")
    bring("pos", slice(0, half))
    first = pipeline.identify(engine, now=AS_OF)
    assert first.probabilistic_mode == "full (model trained)"
    web_profiles = set(rows(engine, "SELECT id FROM customers WHERE merged_into_id IS NULL"))

    bring("pos", slice(half, None))
    later = pipeline.identify(engine, now=AS_OF)
    again = pipeline.identify(engine, now=AS_OF)

    assert later.probabilistic_mode.startswith("incremental")
    assert again.probabilistic_mode == "nothing new"
    owner = dict(
        rows(engine, "SELECT source || ':' || external_id, customer_id FROM source_records")
    )
    truth = {
        k: t
        for k, t in zip(data.identity_truth["key"], data.identity_truth["truth"], strict=True)
        if k.startswith("pos:") and t.startswith("web:")
    }
    joined = [k for k, t in truth.items() if owner.get(k) == owner.get(t)]
    wrong = [
        k for k in owner if k.startswith("pos:") and k not in truth and (owner[k],) in web_profiles
    ]
    assert len(truth) > 20
    assert len(joined) / len(truth) >= 0.9
    assert len(wrong) <= 0.02 * max(1, len(joined))
    survivors = set(rows(engine, "SELECT id FROM customers WHERE merged_into_id IS NULL"))
    assert web_profiles <= survivors  # existing profiles keep their ids


def test_incremental_scoring_finds_the_pairs_a_full_run_finds(demo_store: Engine) -> None:
    from relmark.identify.probabilistic import score_new_pairs, score_pairs
    from relmark.store.identity import live_records

    pipeline.identify(demo_store, now=AS_OF, probabilistic=False)  # as the pipeline does
    with demo_store.connect() as connection:
        records = live_records(connection)
    model: dict = {}
    full = score_pairs(records, threshold=0.5, model_out=model)
    new_ids = records.sort("id").tail(200)["id"].to_list()
    incremental = score_new_pairs(records, new_ids, model, threshold=0.5)

    def pairs(frame: pl.DataFrame) -> set[tuple[int, int]]:
        left, right = frame["unique_id_l"].to_list(), frame["unique_id_r"].to_list()
        return {(min(a, b), max(a, b)) for a, b in zip(left, right, strict=True)}

    touching = full.filter(
        pl.col("unique_id_l").is_in(new_ids) | pl.col("unique_id_r").is_in(new_ids)
    )
    assert len(pairs(touching)) > 5
    assert pairs(incremental) == pairs(touching)


def test_a_record_an_import_changes_is_matched_again(demo_store: Engine, tmp_path) -> None:
    """A record that matched nobody is corrected by a later import and now reads like an
    existing customer: the next (incremental) run finds them without retraining."""
    from datetime import timedelta

    first = pipeline.identify(demo_store, now=AS_OF)
    assert first.probabilistic_mode == "full (model trained)"
    target = rows(
        demo_store,
        "SELECT sr.customer_id, sr.first_name, sr.last_name, sr.birthday, sr.city, "
        "sr.postcode, sr.country FROM source_records sr JOIN customers c "
        "ON c.id = sr.customer_id WHERE sr.source = 'web' AND c.merged_into_id IS NULL "
        "AND sr.birthday IS NOT NULL AND sr.postcode IS NOT NULL ORDER BY sr.id LIMIT 1",
    )[0]
    owner, first_name, last_name, birthday, city, postcode, country = target
    header = ["customer_id", "first_name", "last_name", "birthday", "city", "postcode", "country"]
    stranger = ["R1", "Zzyzx", "Qwertyuiop", "1931-02-03", "Nowhere", "00000", country]
    run_import(
        demo_store,
        "customers",
        write_csv(tmp_path, "crm.csv", header, [stranger]),
        source="crm",
        now=AS_OF,
    )
    unmatched = pipeline.identify(demo_store, now=AS_OF)
    assert unmatched.probabilistic_mode == "incremental (1 new, 0 changed records)"
    assert unmatched.probabilistic_merges == 0

    later = AS_OF + timedelta(days=1)
    corrected = ["R1", first_name, last_name, str(birthday)[:10], city, postcode, country]
    path = write_csv(tmp_path, "crm-fixed.csv", header, [corrected])
    run_import(demo_store, "customers", path, source="crm", now=later)
    again = pipeline.identify(demo_store, now=later)

    assert again.probabilistic_mode == "incremental (0 new, 1 changed records)"
    assert again.probabilistic_merges == 1
    record_owner = rows(
        demo_store,
        "SELECT COALESCE(c.merged_into_id, c.id) FROM source_records sr "
        "JOIN customers c ON c.id = sr.customer_id WHERE sr.source = 'crm'",
    )
    assert record_owner == [(owner,)]
    assert pipeline.identify(demo_store, now=later).probabilistic_mode == "nothing new"
