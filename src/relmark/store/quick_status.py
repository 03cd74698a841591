"""Row counts for `relmark status` through the database driver alone, without SQLAlchemy.

`status` is what people run to see that relmark works, so it should answer at once (the
goal is 0.3 s); importing SQLAlchemy alone costs more than half of that. For a store that
is already at the current schema revision the driver answers. Anything else — no store
yet, an older schema, a URL this reader does not know — returns None, and the caller takes
the full path, which creates the store or refuses with its usual message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import closing
from typing import Any
from urllib.parse import unquote

#: Every table `relmark status` counts, in the order it lists them.
TABLES = (
    "customers",
    "source_records",
    "orders",
    "order_lines",
    "products",
    "partners",
    "consents",
    "customer_events",
    "support_contacts",
    "mentions",
    "imports",
    "score_runs",
    "merges",
    "review_pairs",
    "plan_runs",
    "messages",
    "message_events",
    "tracked_messages",
    "users",
    "api_keys",
    "audit_log",
)
VERSION_TABLE = "alembic_version"


def quick_counts(url: str, head: str) -> dict[str, int] | None:
    """Rows per table when `url` is a SQLite file or a PostgreSQL database at `head`."""
    scheme, _, rest = url.partition("://")
    scheme = scheme.lower()
    if scheme in ("sqlite", "sqlite+pysqlite"):
        return _sqlite_counts(rest, head)
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        return _postgres_counts("postgresql://" + rest, head)
    return None


def _sqlite_counts(rest: str, head: str) -> dict[str, int] | None:
    import sqlite3
    from pathlib import Path

    if not rest.startswith("/") or "?" in rest or len(rest) < 2:
        return None  # in-memory, or options only SQLAlchemy's dialect understands
    path = Path(unquote(rest[1:]))
    if not path.is_file():
        return None
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            return _counts(db.execute, head)
    except sqlite3.Error:
        return None


def _postgres_counts(conninfo: str, head: str) -> dict[str, int] | None:
    try:
        import psycopg
    except ImportError:
        return None
    try:
        with psycopg.connect(conninfo, connect_timeout=10) as db:
            return _counts(db.execute, head)
    except psycopg.Error:
        return None


def _counts(execute: Callable[[str], Any], head: str) -> dict[str, int] | None:
    try:
        versions: Sequence[tuple[str]] = execute(f"SELECT version_num FROM {VERSION_TABLE}")
        versions = list(versions)
    except Exception:  # no version table: a store relmark has never set up
        return None
    if [v for (v,) in versions] != [head]:
        return None
    return {name: int(execute(f"SELECT count(*) FROM {name}").fetchone()[0]) for name in TABLES}
