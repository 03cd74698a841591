"""Survivorship: a merged profile shows the best value per field, its records keep theirs."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from relmark import pipeline
from relmark.store.db import bulk_transaction
from relmark.store.identity import unmerge
from relmark.store.survivorship import set_source_priority

from ..conftest import NOW
from ..helpers import rows, run_import, write_csv

HEADER = ["customer_id", "first_name", "last_name", "email", "phone", "country", "city"]
SHOPIFY = ["S1", "Daniel", "Davies", "daniel.davies@hotmail.co.uk", "07788 181741", "GB", "Leeds"]
NEWSLETTER = ["N1", "DANIEL", "Davies", "Daniel.Davies@Hotmail.Co.Uk", "+44-7788-181741", "GB"]


def _bring(engine: Engine, tmp_path, source: str, row: list[str], days: int) -> None:
    path = write_csv(tmp_path, f"{source}{days}.csv", HEADER, [row])
    when = NOW + timedelta(days=days)
    run_import(engine, "customers", path, source=source, now=when)
    pipeline.identify(engine, now=when)


def _profiles(engine: Engine) -> dict[int, tuple]:
    found = rows(
        engine,
        "SELECT id, first_name, last_name, email, phone, city FROM customers "
        "WHERE merged_into_id IS NULL ORDER BY id",
    )
    return {r[0]: r[1:] for r in found}


def test_the_merged_profile_shows_the_best_value_per_field(engine: Engine, tmp_path) -> None:
    _bring(engine, tmp_path, "shopify", SHOPIFY, 0)
    _bring(engine, tmp_path, "newsletter", [*NEWSLETTER, "York"], 1)

    (profile,) = _profiles(engine).values()
    assert profile[:4] == ("Daniel", "Davies", "daniel.davies@hotmail.co.uk", "+447788181741")
    assert profile[4] == "York"  # equally well written: the most recent
    records = rows(engine, "SELECT first_name, email FROM source_records ORDER BY id")
    assert records == [  # the sources' own values are kept on their records
        ("Daniel", "daniel.davies@hotmail.co.uk"),
        ("DANIEL", "Daniel.Davies@Hotmail.Co.Uk"),
    ]


def test_a_preferred_source_wins_among_equally_good_values(engine: Engine, tmp_path) -> None:
    with bulk_transaction(engine) as connection:
        set_source_priority(connection, ["shopify", "newsletter"], NOW)
    _bring(engine, tmp_path, "shopify", SHOPIFY, 0)
    _bring(engine, tmp_path, "newsletter", [*NEWSLETTER, "York"], 1)

    (profile,) = _profiles(engine).values()
    assert profile[4] == "Leeds"


def test_unmerge_and_reimport_choose_again(engine: Engine, tmp_path) -> None:
    _bring(engine, tmp_path, "shopify", SHOPIFY, 0)
    _bring(engine, tmp_path, "newsletter", [*NEWSLETTER, "York"], 1)
    # the newsletter sends the same record again, shouting, with a new town
    _bring(engine, tmp_path, "newsletter", [*NEWSLETTER, "HULL"], 2)

    (survivor, profile), *_ = _profiles(engine).items()
    assert profile[0] == "Daniel"
    assert profile[4] == "Leeds"  # "HULL" is newer but shouted

    with bulk_transaction(engine) as connection:
        unmerge(connection, survivor, NOW + timedelta(days=3))
    profiles = _profiles(engine)
    assert len(profiles) == 2
    assert profiles[survivor][:2] == ("Daniel", "Davies")
    (other,) = (p for c, p in profiles.items() if c != survivor)
    assert other[0] == "DANIEL"
    assert other[3] == "+447788181741"
    assert other[4] == "HULL"


def test_identify_takes_a_source_priority_and_chooses_again(sqlite_engine: Engine, tmp_path):
    from typer.testing import CliRunner

    from relmark.interfaces.cli import app

    _bring(sqlite_engine, tmp_path, "shopify", SHOPIFY, 0)
    _bring(sqlite_engine, tmp_path, "newsletter", [*NEWSLETTER, "York"], 1)
    assert [p[4] for p in _profiles(sqlite_engine).values()] == ["York"]

    db = str(sqlite_engine.url)
    result = CliRunner().invoke(app, ["identify", "--source-priority", "shopify", "--db", db])

    assert result.exit_code == 0, result.output
    assert [p[4] for p in _profiles(sqlite_engine).values()] == ["Leeds"]
