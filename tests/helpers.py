"""Plain helpers for tests: write small files, import them, count rows."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from relmark.enums import FileFormat, ImportKind
from relmark.ingest.importer import ImportOptions, ImportReport, import_file

from .conftest import NOW


def write_csv(folder: Path, name: str, header: list[str], rows: list[list[Any]]) -> Path:
    path = folder / name
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def run_import(engine: Engine, kind: str, path: Path, **options: Any) -> ImportReport:
    file_format = options.pop("file_format", None)
    now = options.pop("now", NOW)
    return import_file(
        engine,
        ImportOptions(
            ImportKind(kind),
            path,
            file_format=FileFormat(file_format) if file_format else None,
            **options,
        ),
        now=now,
    )


def count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


def rows(engine: Engine, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(text(sql), params)]


def snapshot(engine: Engine) -> dict[str, int]:
    """Row counts of every table an import may touch: equal snapshots = nothing changed."""
    tables = (
        "customers",
        "source_records",
        "orders",
        "order_lines",
        "products",
        "partners",
        "consents",
        "customer_events",
        "imports",
    )
    return {t: count(engine, t) for t in tables}


def new_store(path: Path) -> str:
    """The URL of a new, empty SQLite store at `path`, as `relmark init` makes it: commands
    other than `init` and `demo` refuse a store file that does not exist."""
    from relmark.store.db import make_engine
    from relmark.store.migrate import upgrade

    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url
