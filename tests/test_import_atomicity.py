"""An import is one transaction: an interruption or a killed process leaves the store as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine

from relmark.store import loading

from .helpers import run_import, snapshot, write_csv


def test_ctrl_c_during_the_write_rolls_everything_back(
    engine: Engine, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given orders whose customers get created in the same import
    path = write_csv(
        tmp_path,
        "orders.csv",
        ["order_id", "customer_id", "ordered_at", "amount"],
        [[f"O{i}", f"C{i}", "2026-01-05", "10"] for i in range(100)],
    )
    before = snapshot(engine)

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    # when Ctrl-C arrives after the customers were written but before the orders are
    monkeypatch.setattr(loading, "load_orders", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_import(engine, "orders", path, create_missing=True)

    # then not even the customers or the import record remain
    assert snapshot(engine) == before


@pytest.mark.slow
def test_killed_import_process_leaves_all_or_nothing(tmp_path: Path) -> None:
    rows = 300_000
    path = write_csv(
        tmp_path,
        "orders.csv",
        ["order_id", "customer_id", "ordered_at", "amount"],
        [[f"O{i}", f"C{i % 5000}", "2026-01-05", "10.00"] for i in range(rows)],
    )
    db = tmp_path / "store.db"
    command = [
        sys.executable,
        "-m",
        "relmark",
        "import",
        "orders",
        str(path),
        "--db",
        f"sqlite:///{db}",
        "--create-missing",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    subprocess.run(
        [sys.executable, "-m", "relmark", "init", "--db", f"sqlite:///{db}"],
        check=True,
        capture_output=True,
        env=env,
    )

    wal = Path(f"{db}-wal")
    wal_before = wal.stat().st_size if wal.exists() else 0
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    # wait until the transaction is visibly writing (the write-ahead log grows), then kill
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        if wal.exists() and wal.stat().st_size > wal_before + 2_000_000:
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the import ended before it could be killed"

    from relmark.store.db import make_engine

    engine = make_engine(f"sqlite:///{db}")
    counts = snapshot(engine)
    assert counts == dict.fromkeys(counts, 0)
    engine.dispose()

    # and the same import, run to the end, then writes everything
    finished = subprocess.run(command, capture_output=True, env=env, text=True)
    assert finished.returncode == 0, finished.stderr
    engine = make_engine(f"sqlite:///{db}")
    assert snapshot(engine)["orders"] == rows
    engine.dispose()


def test_sqlite_bulk_load_leaves_no_orphans_and_restores_fk_checks(
    sqlite_engine: Engine, tmp_path
) -> None:
    path = write_csv(
        tmp_path,
        "orders.csv",
        ["order_id", "customer_id", "ordered_at", "amount"],
        [[f"O{i}", f"C{i % 7}", "2026-01-05", "10"] for i in range(50)],
    )

    run_import(sqlite_engine, "orders", path, create_missing=True)

    with sqlite_engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
