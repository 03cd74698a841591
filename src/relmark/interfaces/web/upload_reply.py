"""What the API says about an uploaded file: its name as the client sent it, never the
server's temporary path (which tells an attacker about the machine and is gone anyway)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from relmark.errors import InvalidInput
from relmark.ingest.importer import ImportReport


@contextmanager
def paths_hidden(folder: str, name: str) -> Iterator[None]:
    """Problems raised inside name the upload `name` instead of a path under `folder`."""
    try:
        yield
    except InvalidInput as exc:
        problems = [
            replace(p, where=_hide(p.where, folder, name), message=_hide(p.message, folder, name))
            for p in exc.problems
        ]
        raise InvalidInput(problems, total=exc.total, shown=exc.shown) from None


def public_report(report: ImportReport, name: str) -> dict[str, Any]:
    """The import report for the client: the upload's name; no rejects file, since it was
    written beside the temporary upload and removed with it."""
    return {**report.as_dict(), "file": name, "rejects_file": None}


def _hide(text: str, folder: str, name: str) -> str:
    return text.replace(f"{folder}/{name}", name).replace(folder, "(upload)")
