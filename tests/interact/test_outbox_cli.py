"""`relmark outbox`: counts by default; `--list` and the filters list the messages."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from relmark.interfaces.cli import app

from .conftest import Shop
from .outbox_seed import NEWEST_FIRST, seed

runner = CliRunner()


@pytest.fixture
def seeded(engine: Engine, tmp_path) -> tuple[dict, list[str]]:  # noqa: ANN001
    data = seed(Shop(engine, tmp_path))
    return data, ["--db", engine.url.render_as_string(hide_password=False)]


def listing(db: list[str], *args: str) -> dict:
    result = runner.invoke(app, ["outbox", *args, *db, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def keys(data: dict, items: list[dict]) -> list[str]:
    by_id = {v: k for k, v in data["ids"].items()}
    return [by_id[i["id"]] for i in items]


def test_counts_stay_the_default(seeded: tuple[dict, list[str]]) -> None:
    _, db = seeded
    counts = json.loads(runner.invoke(app, ["outbox", *db, "--json"]).stdout)
    assert {"playbook": "birthday", "status": "held", "reason": "expired", "count": 1} in counts
    assert sum(r["count"] for r in counts) == 7


def test_list_with_every_filter(seeded: tuple[dict, list[str]]) -> None:
    data, db = seeded
    everything = listing(db, "--list")
    assert everything["total"] == 7
    assert keys(data, everything["items"]) == NEWEST_FIRST
    first = everything["items"][0]
    assert {"customer_id", "customer_name", "email", "reason_text", "attempts"} <= set(first)
    c2 = str(data["customers"]["C2"])
    cases = {
        ("--playbook", "thank-you"): ["m4", "m2", "m1"],
        ("--status", "failed"): ["m6"],
        ("--reason", "cap_7d"): ["m2"],
        ("--customer", c2): ["m7", "m2", "m6"],
        ("--email", "BO@example.my"): ["m7", "m2", "m6"],
        ("--due-from", "2026-05-04", "--due-to", "2026-05-06"): ["m4", "m3", "m2"],
        ("--sent-from", "2026-05-03", "--sent-to", "2026-05-03"): ["m1"],
        ("--due-from", "2026-05-07T00:00:00+02:00"): ["m7", "m5"],
    }
    for args, expected in cases.items():  # a filter alone lists: no --list needed
        assert keys(data, listing(db, *args)["items"]) == expected, args


def test_expired_shows_what_was_lost_to_downtime(seeded: tuple[dict, list[str]]) -> None:
    data, db = seeded
    lost = listing(db, "--expired")
    assert keys(data, lost["items"]) == ["m4", "m3"]
    assert {(i["status"], i["reason"]) for i in lost["items"]} == {("held", "expired")}
    assert lost["items"][0]["reason_text"].startswith("The occasion passed while relmark")


def test_paging_with_limit_and_offset(seeded: tuple[dict, list[str]]) -> None:
    data, db = seeded
    pages = [listing(db, "--limit", "3", "--offset", str(o)) for o in (0, 3, 6)]
    assert [p["total"] for p in pages] == [7, 7, 7]
    assert sum((keys(data, p["items"]) for p in pages), []) == NEWEST_FIRST


def test_the_table_names_customer_reason_and_where_more_is(
    seeded: tuple[dict, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from relmark.interfaces import cli_base

    monkeypatch.setattr(cli_base.out, "width", 250)
    _, db = seeded
    shown = runner.invoke(app, ["outbox", "--list", "--limit", "2", *db])
    assert shown.exit_code == 0, shown.output
    assert "messages 1-2 of 7" in shown.stdout
    assert "Bo" in shown.stdout
    assert "bo@example.my" in shown.stdout
    assert "win-back" in shown.stdout
    assert "Moved to the end of the customer's quiet hours. (quiet_hours_deferred)" in shown.stdout
    assert "more: --offset 2" in shown.stdout
    failed = runner.invoke(app, ["outbox", "--status", "failed", *db])
    assert "3: 550 mailbox unavailable" in failed.stdout


def test_bad_filters_are_one_clear_line(seeded: tuple[dict, list[str]]) -> None:
    _, db = seeded
    cases = [
        (["--status", "lost"], "no status 'lost'"),
        (["--due-from", "2026-05-06", "--due-to", "2026-05-04"], "due_from (2026-05-06 00:00)"),
        (["--sent-to", "last week"], "--sent-to"),
        (["--due-from", "2026-05-01T10:00:00"], "no UTC offset"),
        (["--expired", "--status", "sent"], "--expired"),
        (["--limit", "0"], "--limit"),
    ]
    for args, message in cases:
        result = runner.invoke(app, ["outbox", *args, *db])
        assert result.exit_code != 0, (args, result.output)
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output
        assert "nothing was changed" not in result.output  # a read changes nothing anyway
