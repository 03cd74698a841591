"""Engine creation: one place that knows how each backend wants to be opened."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from relmark.errors import StoreError


def normalise_url(url: str) -> str:
    """Let users write `postgresql://…`; we drive PostgreSQL with psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and a busy timeout on every connect."""
    try:
        engine = create_engine(normalise_url(url), **kwargs)
    except Exception as exc:  # bad scheme, missing driver, malformed URL
        raise StoreError(f"cannot open store {make_url(url)!r}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_on_connect)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Bulk imports touch several indexes at random places: give them room in memory.
    cursor.execute("PRAGMA cache_size=-262144")  # KiB, i.e. up to 256 MiB per connection
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()
    # SQLite's lower() folds ASCII only: searching "айгерим" must find "Айгерим".
    dbapi_connection.create_function("casefold", 1, _casefold, deterministic=True)


def _casefold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


@contextmanager
def bulk_transaction(engine: Engine) -> Iterator[Connection]:
    """One all-or-nothing transaction for a bulk load.

    On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`), so the ids a load looked
    up cannot change under it, and it skips per-row foreign-key checks: the loaders resolve
    every reference inside this same transaction. PostgreSQL keeps its checks.
    """
    if engine.dialect.name != "sqlite":
        with engine.begin() as connection:
            connection.exec_driver_sql("SET LOCAL work_mem = '256MB'")  # sorts stay in memory
            yield connection
        return
    with engine.connect() as connection:
        driver = connection.connection.driver_connection
        driver.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        previous = driver.isolation_level  # type: ignore[union-attr]
        driver.isolation_level = "IMMEDIATE"  # type: ignore[union-attr]
        try:
            with connection.begin():
                yield connection
        finally:
            driver.isolation_level = previous  # type: ignore[union-attr]
            driver.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]
