"""`relmark run` and `relmark jobs` at the command line: bad options are refused clearly,
before the engine registers; the schedule is listed."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from typer.testing import CliRunner

from relmark.interfaces.cli import app

from .conftest import playbooks, scalar

runner = CliRunner()


def test_a_bad_score_time_or_clock_is_refused_and_no_engine_registers(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    db = sqlite_engine.url.render_as_string(hide_password=False)
    books = str(playbooks(tmp_path))
    bad_time = runner.invoke(app, ["run", "--once", "--db", db, "--score-at", "25:00"])
    bad_clock = runner.invoke(
        app, ["run", "--once", "--db", db, "--playbooks", books, "--as-of", "2026-06-01T12:00"]
    )
    assert bad_time.exit_code == 1
    assert "--score-at" in bad_time.output
    assert "'25:00' is not a time of day HH:MM" in bad_time.output
    assert bad_clock.exit_code == 1
    assert "has no UTC offset" in bad_clock.output
    assert scalar(sqlite_engine, "SELECT COUNT(*) FROM engine_instances") == 0


def test_a_tick_warns_about_an_unset_sender_and_loopback_links_and_lists_its_jobs(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    db = sqlite_engine.url.render_as_string(hide_password=False)
    books = str(playbooks(tmp_path))
    tick = runner.invoke(app, ["run", "--once", "--db", db, "--playbooks", books])
    assert tick.exit_code == 0, tick.output
    # nothing configured: the operator is told loudly, the engine plans anyway
    assert "warning: no delivery configured" in tick.output
    assert "warning: messages are sent from noreply@relmark.invalid" in tick.output
    assert "which is this machine: recipients cannot open them" in tick.output
    listed = runner.invoke(app, ["jobs", "--db", db, "--json"])
    assert listed.exit_code == 0
    assert '"name": "rescore"' in listed.output
    assert "planned 0" in listed.output
