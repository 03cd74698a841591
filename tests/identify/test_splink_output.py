"""Splink and DuckDB never write into a command's output: what they say goes to Python logging
at debug level. A model that cannot be trained is one plain line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ..helpers import new_store, write_csv

FEBRL1 = Path(__file__).resolve().parents[1] / "data" / "febrl" / "febrl1_customers.csv"
SPLINK_WORDS = ("level", "warning", "splink", "m values", "u values", "comparison", "em ")


def _relmark(*args: str) -> subprocess.CompletedProcess[str]:
    source = str(Path(__file__).resolve().parents[2] / "src")
    environment = {**os.environ, "PYTHONPATH": source, "COLUMNS": "400"}
    return subprocess.run(
        [sys.executable, "-m", "relmark", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
        check=False,
    )


def _splink_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if any(w in line.lower() for w in SPLINK_WORDS)]


def test_import_and_identify_print_no_splink_lines(tmp_path) -> None:
    db = new_store(tmp_path / "store.db")
    imported = _relmark("import", "customers", str(FEBRL1), "--db", db)
    identified = _relmark("identify", "--full", "--db", db)

    assert imported.returncode == 0, imported.stderr
    assert identified.returncode == 0, identified.stderr
    assert "probabilistic matching: full (model trained)" in identified.stdout
    for result in (imported, identified):
        assert _splink_lines(result.stdout) == []
        assert _splink_lines(result.stderr) == []


def test_a_model_that_cannot_be_trained_is_one_plain_line(tmp_path) -> None:
    # 250 customers with nothing to compare: no name, birthday or address
    path = write_csv(tmp_path, "ids.csv", ["customer_id"], [[f"C{i}"] for i in range(250)])
    db = new_store(tmp_path / "store.db")
    imported = _relmark("import", "customers", str(path), "--db", db)

    assert imported.returncode == 0, imported.stderr
    skipped = [line for line in imported.stdout.splitlines() if "skipped" in line]
    assert len(skipped) == 1
    assert skipped[0].startswith("probabilistic matching skipped: the model could not be trained")
    assert imported.stderr.strip() == ""
    assert len(imported.stdout.strip().splitlines()) == 2
