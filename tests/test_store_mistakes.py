"""Store mistakes: a `--db` naming no store is refused (not silently created), a plain path is
a SQLite file, the demo checks its port before building, and the same seed and date give the
same store and the same plan."""

from __future__ import annotations

import json
import math
import re
import socket
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import Engine, inspect, text
from typer.testing import CliRunner

from relmark.interact.governor import control_draw, decide
from relmark.interact.policy import ContactPolicy
from relmark.interfaces.cli import app
from relmark.store.db import make_engine

from .interact.test_governor import candidate, frame, history

runner = CliRunner()


@pytest.mark.parametrize(
    "command",
    [
        ["customers"],
        ["status"],
        ["settings", "show"],
        ["settings", "set", "currency=EUR"],
        ["audit"],
    ],
)
def test_a_store_file_that_does_not_exist_is_refused_not_created(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    typo = tmp_path / "shpo.db"

    as_url = runner.invoke(app, [*command, "--db", f"sqlite:///{typo}"])
    as_relative_path = runner.invoke(app, [*command, "--db", "shpo.db"])

    for result in (as_url, as_relative_path):
        assert result.exit_code == 1
        assert f"no store at {typo}: the file does not exist" in result.output
        assert f"`relmark init --db {typo}` creates one" in result.output
        assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []  # nothing created, not even a -wal file


def test_without_db_in_a_new_folder_the_hint_is_plain_init(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RELMARK_DATABASE_URL", raising=False)
    result = runner.invoke(app, ["customers"])
    assert result.exit_code == 1
    assert f"no store at {tmp_path / 'relmark.db'}" in result.output
    assert "(`relmark init` creates one" in result.output


def test_a_relative_sqlite_url_is_refused_with_its_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["customers", "--db", "sqlite:///sub/../shop.db"])
    assert result.exit_code == 1
    assert f"no store at {tmp_path}/sub/../shop.db" in result.output


def test_a_plain_path_is_a_sqlite_file_relative_or_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "stores").mkdir()

    created = runner.invoke(app, ["init", "--db", "stores/shop.db"])
    relative = runner.invoke(app, ["settings", "set", "currency=EUR", "--db", "stores/shop.db"])
    absolute = runner.invoke(
        app, ["settings", "show", "--json", "--db", str(tmp_path / "stores" / "shop.db")]
    )
    status = runner.invoke(app, ["status", "--json", "--db", "stores/shop.db"])

    assert created.exit_code == 0, created.output
    assert (tmp_path / "stores" / "shop.db").is_file()
    assert relative.exit_code == 0, relative.output
    assert {r["key"]: r["value"] for r in json.loads(absolute.stdout)}["currency"] == "EUR"
    assert json.loads(status.stdout)["audit_log"] == 1  # the settings change


def test_the_demo_checks_its_port_before_building_the_store(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        store = tmp_path / "demo.db"
        result = runner.invoke(
            app, ["demo", "--customers", "10", "--port", str(port), "--db", str(store)]
        )

    assert result.exit_code == 1
    assert f"--port: port {port} on 127.0.0.1 is already in use" in result.output
    assert "generating" not in result.output  # refused before any work
    assert not store.exists()


def test_control_group_draws_stay_with_their_own_candidates() -> None:
    """Quiet-hour deferral groups candidates by zone; each candidate must still get its own
    (playbook, customer) draw, whatever order the zones come back in."""
    zones = ["Asia/Almaty", "Europe/London", "Asia/Manila", "Europe/Kyiv"]
    rows = [candidate(c, control_share=0.5, zone=zones[c % len(zones)]) for c in range(1, 401)]

    decided = decide(frame(*rows), history(), ContactPolicy()).sort("customer_id")

    expected = control_draw("winback", pl.Series(range(1, 401), dtype=pl.Int64)) < 0.5
    held = decided["reason"].eq_missing("control_group")
    assert held.to_list() == expected.to_list()


# --- the same seed and date, the same store ---------------------------------------------


def build_demo(folder: Path) -> dict[str, Any]:
    folder.mkdir()
    result = runner.invoke(
        app,
        [
            "demo",
            "--customers",
            "400",
            "--seed",
            "7",
            "--as-of",
            "2026-06-30",
            "--db",
            str(folder / "demo.db"),
            "--mail-dir",
            str(folder / "mail"),
            "--no-serve",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


#: Not drawn from the seed: how long each model fit took, and the random id Splink gives
#: each linker in the identity model it stores.
MEASURED = {"fit_seconds", "linker_uid"}


def _close(value: Any) -> Any:
    """Floats to 9 significant digits: model fits sum in parallel, so their last bits may
    differ (1e-13 apart) while every decision built on them is the same."""
    if isinstance(value, float):
        return float(f"{value:.9g}") if math.isfinite(value) else value
    if isinstance(value, dict):
        return {k: _close(v) for k, v in value.items() if k not in MEASURED}
    if isinstance(value, list):
        return [_close(v) for v in value]
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return _close(json.loads(value))
        except ValueError:
            return value
    return value


SCRATCH = re.compile(r"/tmp/tmp[^/]+/")  # the demo's temporary folder for its CSV files
#: Offer and referral codes come from the system's CSPRNG so that none can be guessed from
#: another: two builds draw different ones by design (wherever a code is written down).
CODE = re.compile(r"\b[A-Z][A-Z0-9]{0,11}-[2-9A-HJ-NP-Z]{8}\b")


#: Columns that record when something really happened (the audit trail's time of each act,
#: when a mail first showed a customer their referral code), not the simulated shop's dates:
#: two builds differ there by design.
WALL_CLOCK = {("audit_log", "at"), ("referral_codes", "created_at")}


def contents(engine: Engine, folder: Path) -> dict[str, list[tuple]]:
    """Every table's rows, but for what a store is meant to differ in: its signing secret
    (a secret), the folder it was built in and the wall-clock time of audited acts."""
    tables: dict[str, list[tuple]] = {}
    with engine.connect() as connection:
        for table in sorted(inspect(connection).get_table_names()):
            if table == "alembic_version":
                continue
            key = inspect(connection).get_pk_constraint(table)["constrained_columns"]
            order = ", ".join(f'"{c}"' for c in key) or "1"
            columns = ", ".join(
                f'"{c["name"]}"'
                for c in inspect(connection).get_columns(table)
                if (table, c["name"]) not in WALL_CLOCK
            )
            statement = f'SELECT {columns} FROM "{table}" ORDER BY {order}'
            rows = connection.execute(text(statement)).all()
            tables[table] = [
                tuple(
                    _close(
                        CODE.sub("CODE", SCRATCH.sub("SCRATCH/", v.replace(str(folder), "FOLDER")))
                        if isinstance(v, str)
                        else v
                    )
                    for v in row
                )
                for row in rows
                if not (table == "store_settings" and row[0] == "secret:signing")
            ]
    return tables


def test_the_same_seed_and_date_give_the_same_store_and_plan(tmp_path: Path) -> None:
    first = build_demo(tmp_path / "a")
    second = build_demo(tmp_path / "b")

    for result in (first, second):
        result.pop("seconds")
        result.pop("store")
        result["interact"].pop("to")
    assert first["interact"]["planned"] > 0
    assert first["interact"]["held"].get("control_group", 0) > 0
    assert first == second  # every count, the plan's per playbook and reason too
    stores = [make_engine(f"sqlite:///{tmp_path / n / 'demo.db'}") for n in ("a", "b")]
    a, b = (contents(e, tmp_path / n) for e, n in zip(stores, ("a", "b"), strict=True))
    assert a.keys() == b.keys()
    differing = [t for t in a if a[t] != b[t]]
    assert differing == []
    earlier = sum(r["planned"] + r["held"] for r in first["promises"]["rounds"])
    assert len(a["messages"]) == earlier + first["interact"]["planned"] + sum(
        first["interact"]["held"].values()
    )
    assert first["promises"]["redeemed"] > 0  # the history is part of what must repeat
    assert a["offer_redemptions"]
    assert a["referrals"]
