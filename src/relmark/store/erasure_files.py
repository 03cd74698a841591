"""Files relmark wrote that can hold an erased person's data: the `FILE.rejects.csv` an import
with --skip-invalid writes beside FILE (the store keeps every imported file's path).

Rows that hold any erased value (e-mail, phone, name, external id, compared cell by cell,
case-insensitively, and e-mails and phones also inside a cell) are removed; the rest of the
file stays. Runs after the erasure committed: a file cannot roll back with the database.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import Connection, select

from relmark.store.models import ImportRun


def known_files(connection: Connection) -> list[Path]:
    """Rejects files of past imports that still exist."""
    names = connection.execute(select(ImportRun.file_name).distinct()).scalars()
    found = {Path(f"{name}.rejects.csv") for name in names if name}
    return sorted(path for path in found if path.is_file())


def scrub_files(paths: Iterable[Path], needles: set[str]) -> dict[str, int]:
    """Remove rows naming the person from each file; {path: rows removed} for changed ones."""
    changed = {}
    for path in paths:
        removed = _scrub_csv(path, needles)
        if removed:
            changed[str(path)] = removed
    return changed


def _mentions(cell: str, exact: set[str], inside: list[str]) -> bool:
    folded = cell.strip().casefold()
    return folded in exact or any(n in folded for n in inside)


def _scrub_csv(path: Path, needles: set[str]) -> int:
    exact = {n.casefold() for n in needles}
    inside = [n.casefold() for n in needles if "@" in n or n.startswith("+")]
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        return 0
    kept = [rows[0]] + [
        row for row in rows[1:] if not any(_mentions(cell, exact, inside) for cell in row)
    ]
    removed = len(rows) - len(kept)
    if removed:
        # write beside, then replace: a crash leaves the old file or the new one, never half
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(descriptor, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(kept)
        os.replace(temporary, path)
    return removed
