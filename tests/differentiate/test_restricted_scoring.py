"""Restriction in the differentiate stage: a restricted customer is not scored or
profiled. Their orders are no input to any model fit, no score row is written for them
(the run says how many were left out), and scores from before the restriction are not
shown to anyone: not in the 360 view, the lists, or what the planner reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, select, true
from typer.testing import CliRunner

from relmark.config import Settings
from relmark.interaction import Interaction
from relmark.store import customers as customer_store
from relmark.store import score_reads
from relmark.store.models import ScoreRun
from relmark.store.scores import latest_run_id, list_scores

from ..helpers import rows, run_import, write_csv

runner = CliRunner()
NOW = datetime(2026, 6, 2, 12, 0, tzinfo=UTC)


def small_store(engine: Engine, folder: Path) -> dict[str, int]:
    header = ["customer_id", "email", "first_name", "country"]
    people = [[f"S{i}", f"s{i}@example.si", f"Ime{i}", "SI"] for i in range(6)]
    run_import(engine, "customers", write_csv(folder, "c.csv", header, people))
    header = ["order_id", "customer_id", "ordered_at", "amount", "currency", "status"]
    orders = [
        [f"O{i}-{k}", f"S{i}", f"2026-0{1 + k}-1{i}T10:00:00Z", 10 + 7 * i + k, "EUR", "completed"]
        for i in range(6)
        for k in range(1 + i % 3)
    ]
    run_import(engine, "orders", write_csv(folder, "o.csv", header, orders))
    with engine.connect() as connection:
        found = connection.exec_driver_sql(
            "SELECT external_id, customer_id FROM source_records"
        ).fetchall()
    return {external: int(customer) for external, customer in found}


def score(db: str) -> dict:
    result = runner.invoke(
        _app(), ["score", "--as-of", "2026-06-01", "--draws", "0", "--db", db, "--json"]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _app():  # noqa: ANN202
    from relmark.interfaces.cli import app

    return app


def test_a_restricted_customer_is_left_out_of_scoring(engine: Engine, tmp_path: Path) -> None:
    # given six buyers scored once, then one of them restricts processing
    ids = small_store(engine, tmp_path)
    db = engine.url.render_as_string(hide_password=False)
    before = score(db)
    restricted = ids["S4"]
    relmark = Interaction(engine, Settings(secret_key="x" * 32))
    relmark.restrict(restricted, True, NOW, reason="objects to profiling")

    # when the store is scored again
    during = score(db)

    # then the restricted customer has no score row, their orders were no input (the
    # fingerprint of the input changed and comes back when the restriction is lifted),
    # and the run records how many were left out
    run_id = during["run_id"]
    scored = {
        c
        for (c,) in rows(
            engine, "SELECT customer_id FROM customer_scores WHERE run_id = :r", r=run_id
        )
    }
    assert restricted not in scored
    assert scored == set(ids.values()) - {restricted}
    fingerprints = dict(rows(engine, "SELECT id, input_fingerprint FROM score_runs"))
    assert fingerprints[run_id] != fingerprints[before["run_id"]]
    with engine.connect() as connection:
        settings = connection.execute(
            select(ScoreRun.settings).where(ScoreRun.id == run_id)
        ).scalar_one()
    assert settings["restricted_left_out"] == 1

    relmark.restrict(restricted, False, NOW)
    after = score(db)
    fingerprints = dict(rows(engine, "SELECT id, input_fingerprint FROM score_runs"))
    assert fingerprints[after["run_id"]] == fingerprints[before["run_id"]]


def test_scores_from_before_a_restriction_are_not_shown(engine: Engine, tmp_path: Path) -> None:
    # given a scored store, then a restriction (no new run yet)
    ids = small_store(engine, tmp_path)
    score(engine.url.render_as_string(hide_password=False))
    restricted = ids["S5"]
    Interaction(engine, Settings(secret_key="x" * 32)).restrict(restricted, True, NOW)

    # when staff and the planner read the latest run
    with engine.connect() as connection:
        profile = customer_store.profile(connection, restricted)
        _total, listed = customer_store.search(connection, limit=50)
        cli_rows = list_scores(connection, latest_run_id(connection), limit=50)
        planner = score_reads.customers_matching(
            connection, score_reads.latest_run(connection), {"anyone": true()}
        )

    # then the profile says restricted and shows no score; lists carry no values for them
    assert profile is not None
    assert profile["restricted"] is True
    assert profile["score"] is None
    [row] = [r for r in listed if r["id"] == restricted]
    assert row["restricted"] is True
    assert (row["segment"], row["clv_minor"], row["p_alive"]) == (None, None, None)
    assert restricted not in {r["customer_id"] for r in cli_rows}
    assert restricted not in planner["customer_id"].to_list()
    assert len(cli_rows) == len(ids) - 1
