"""The command line: one clear line per error, JSON where asked, `--db` everywhere."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime

from typer.testing import CliRunner

from relmark.interfaces.cli import app
from relmark.store.migrate import head_revision

from .helpers import new_store, write_csv

runner = CliRunner()


def test_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["--help"])

    assert result.exit_code == 0
    for command in ("init", "import", "status", "demo"):
        assert command in result.output


def test_init_is_idempotent(tmp_path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"

    first = runner.invoke(app, ["init", "--db", db])
    second = runner.invoke(app, ["init", "--db", db])

    assert first.exit_code == 0
    assert f"empty → {head_revision()}" in first.output
    assert "up to date" in second.output


def test_import_json_and_status_json(tmp_path) -> None:
    db = new_store(tmp_path / "s.db")
    path = write_csv(tmp_path, "c.csv", ["customer_id", "email"], [["C1", "a@example.com"]])

    imported = runner.invoke(app, ["import", "customers", str(path), "--db", db, "--json"])
    status = runner.invoke(app, ["status", "--db", db, "--json"])

    assert imported.exit_code == 0, imported.output
    report = json.loads(imported.stdout)
    assert report["inserted"] == 1
    assert report["source"] == "default"
    assert json.loads(status.stdout)["customers"] == 1


def test_bad_file_is_one_clear_message_and_exit_1(tmp_path) -> None:
    db = new_store(tmp_path / "s.db")
    path = write_csv(tmp_path, "c.csv", ["customer_id", "birthday"], [["C1", "31/12/1990"]])

    result = subprocess.run(
        [sys.executable, "-m", "relmark", "import", "customers", str(path), "--db", db],
        capture_output=True,
        text=True,
    )

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        f"error: {path}:2: column 'birthday': '31/12/1990': is not a date (write YYYY-MM-DD)",
        "nothing was changed",
    ]


def test_skip_invalid_reports_the_rejects_file(tmp_path) -> None:
    db = new_store(tmp_path / "s.db")
    path = write_csv(
        tmp_path, "c.csv", ["customer_id", "birthday"], [["C1", "1990-12-31"], ["C2", "someday"]]
    )

    result = runner.invoke(app, ["import", "customers", str(path), "--db", db, "--skip-invalid"])

    assert result.exit_code == 0
    assert "1 inserted" in result.output
    assert "1 rejected" in result.output
    assert (tmp_path / "c.csv.rejects.csv").exists()


def test_unreachable_store_is_a_clear_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "relmark", "status", "--db", "postgresql://nobody@127.0.0.1:1/none"],
        capture_output=True,
        text=True,
    )

    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot use the store:")
    assert "Traceback" not in result.stderr


def test_unknown_kind_is_a_usage_error(tmp_path) -> None:
    result = runner.invoke(app, ["import", "wishes", str(tmp_path / "x.csv")])

    assert result.exit_code == 2
    assert "wishes" in result.output


def test_demo_builds_prints_and_refuses_a_non_empty_store(tmp_path) -> None:
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    args = [
        "demo",
        "--customers",
        "150",
        "--seed",
        "1",
        "--as-of",
        "2026-10-01",
        "--db",
        db,
        "--export-dir",
        str(tmp_path / "csv"),
        "--mail-dir",
        str(tmp_path / "mail"),
        "--no-serve",
    ]

    built = runner.invoke(app, [*args, "--json"])
    again = runner.invoke(app, args)

    assert built.exit_code == 0, built.output
    result = json.loads(built.stdout)
    assert result["tables"]["customers"] > 150
    assert result["planted_duplicates"] == 8
    assert result["as_of"] == "2026-10-01T09:00:00+00:00"
    assert (tmp_path / "csv" / "orders_web.csv").exists()
    interact = result["interact"]
    assert interact["planned"] > 0
    assert sum(interact["held"].values()) > 0
    earlier = sum(r["sent"] for r in result["promises"]["rounds"])  # the history's sends
    assert earlier > 0
    assert earlier + interact["sent"] == len(list((tmp_path / "mail").glob("*.eml")))
    # quiet-hour deferrals and birthdays due tomorrow morning wait; nothing else does
    assert interact["sent"] <= interact["planned"] - interact["deferred_for_quiet_hours"]
    # at 09:00 UTC every market is awake: most of what is planned goes out now
    assert interact["deferred_for_quiet_hours"] < interact["planned"] / 4
    assert interact["sent"] > 0
    # the demo shop has configured its offers: they run (a new store leaves them off)
    assert {"birthday", "win-back", "vip-gift"} <= set(interact["playbooks"])
    # the demo runs the loyalty programme over its history: points earned, spent, expired
    loyalty = result["loyalty"]
    assert loyalty["points_earned"] > 0
    assert loyalty["expired_points"] > 0
    assert loyalty["redeemed"] > 0
    assert loyalty["members"] > 0
    assert again.exit_code == 1
    assert "is not empty" in again.output


def test_demo_default_database_is_rebuilt_in_the_working_folder(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["demo", "--customers", "50", "--no-serve", "--as-of", "2026-10-01"]

    first = runner.invoke(app, args)
    second = runner.invoke(app, args)

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert (tmp_path / "relmark-demo.db").exists()
    assert "relmark demo store" in second.output


def test_the_demo_clock_stops_at_nine_utc() -> None:
    from relmark.interfaces.cli import _demo_clock

    evening = datetime(2026, 11, 23, 21, 25, tzinfo=UTC)
    early = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    assert _demo_clock(None, evening) == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert _demo_clock(None, early) == datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    assert _demo_clock(date(2026, 10, 1), evening) == datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
