"""Files relmark wrote that can hold an erased person's data: the `FILE.rejects.csv` an import
with --skip-invalid writes beside FILE (the store keeps every imported file's path), and the
files and folders commands remember here when they write them (`relmark export identities`,
the demo's CSV export and its mail folder).

In a CSV, rows that hold an erased e-mail, phone, full name or 'source:external_id' key (cell
by cell, case-insensitively; e-mails and phones also inside a cell), or one of the person's
external ids in an id column (`customer_id`, `external_id`, `user_id`), are removed; the rest
of the file stays. A filed e-mail (.eml) addressed to or naming the person is deleted. Runs
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

from relmark.csvsafe import write_rows
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


ID_COLUMNS = {"customer_id", "external_id", "user_id", "userid"}


def scrub_files(
    paths: Iterable[Path], needles: set[str], external_ids: set[str] | None = None
) -> dict[str, int]:
    """Remove what names the person from each file; {path: rows or files removed}."""
    changed = {}
    for path in paths:
        removed = _scrub_mail(path, needles) if path.suffix.lower() == ".eml" else 0
        if path.suffix.lower() == ".csv":
            removed = _scrub_csv(path, needles, external_ids or set())
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


def _scrub_csv(path: Path, needles: set[str], external_ids: set[str]) -> int:
    exact = {n.casefold() for n in needles}
    inside = [n.casefold() for n in needles if "@" in n or n.startswith("+")]
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        return 0
    id_columns = [i for i, name in enumerate(rows[0]) if name.strip().casefold() in ID_COLUMNS]

    def names_the_person(row: list[str]) -> bool:
        if any(i < len(row) and row[i] in external_ids for i in id_columns):
            return True
        return any(_mentions(cell, exact, inside) for cell in row)

    kept = [rows[0], *(row for row in rows[1:] if not names_the_person(row))]
    removed = len(rows) - len(kept)
    if removed:
        # write beside, then replace: a crash leaves the old file or the new one, never half
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(descriptor, "w", newline="", encoding="utf-8") as handle:
            write_rows(handle, kept[0], kept[1:])
        os.replace(temporary, path)
    return removed
