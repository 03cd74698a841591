"""Files relmark wrote that can hold an erased person's data: the `FILE.rejects.csv` an import
with --skip-invalid writes beside FILE (the store keeps every imported file's path), and the
files and folders commands remember here when they write them (`relmark export identities`,
the demo's CSV export and its mail folder).

In a CSV, rows that hold any erased value (e-mail, phone, name, external id, compared cell by
cell, case-insensitively, and e-mails and phones also inside a cell) are removed; the rest of
the file stays. A filed e-mail (.eml) addressed to or naming the person is deleted. Runs
after the erasure committed: a file cannot roll back with the database.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, select

from relmark.store import kv
from relmark.store.models import ImportRun

WRITTEN_KEY = "privacy:files-written"
KINDS = {".csv", ".eml"}


def remember(connection: Connection, path: Path, now: datetime) -> None:
    """Note a file or folder relmark wrote personal data to, so an erasure cleans it."""
    known = list(kv.get_setting(connection, WRITTEN_KEY) or [])
    where = str(path.resolve())
    if where not in known:
        kv.put_setting(connection, WRITTEN_KEY, [*known, where], now)


def known_files(connection: Connection) -> list[Path]:
    """Rejects files of past imports, and remembered files and folders, that still exist."""
    names = connection.execute(select(ImportRun.file_name).distinct()).scalars()
    found = {Path(f"{name}.rejects.csv") for name in names if name}
    for written in kv.get_setting(connection, WRITTEN_KEY) or []:
        path = Path(written)
        if path.is_dir():
            found |= {p for p in path.iterdir() if p.suffix.lower() in KINDS}
        else:
            found.add(path)
    return sorted(path for path in found if path.is_file() and path.suffix.lower() in KINDS)


def scrub_files(paths: Iterable[Path], needles: set[str]) -> dict[str, int]:
    """Remove what names the person from each file; {path: rows or files removed}."""
    changed = {}
    for path in paths:
        removed = _scrub_mail(path, needles) if path.suffix.lower() == ".eml" else 0
        if path.suffix.lower() == ".csv":
            removed = _scrub_csv(path, needles)
        if removed:
            changed[str(path)] = removed
    return changed


def _scrub_mail(path: Path, needles: set[str]) -> int:
    """A filed message to the person goes whole: its headers name them."""
    raw = path.read_bytes().decode("utf-8", errors="replace").casefold()
    if any(n.casefold() in raw for n in needles if "@" in n):
        path.unlink()
        return 1
    return 0


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
