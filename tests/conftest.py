"""Shared fixtures: a fresh store per test on SQLite, and on PostgreSQL when switched on.

PostgreSQL tests run when RELMARK_TEST_POSTGRES_URL is set (CI sets it). Then an unreachable
server is a failure, not a skip. Each test gets its own schema, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from relmark.store.db import make_engine, normalise_url
from relmark.store.migrate import ensure_current

PG_URL = os.environ.get("RELMARK_TEST_POSTGRES_URL")
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if PG_URL:
        return
    skip = pytest.mark.skip(reason="PostgreSQL tests are off: set RELMARK_TEST_POSTGRES_URL")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # noqa: ANN001
    """A URL to an empty store on the backend named by the test's parameter."""
    backend = request.param
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    yield from _postgres_schema()


def _postgres_schema() -> Iterator[str]:
    assert PG_URL, "RELMARK_TEST_POSTGRES_URL is not set"
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(normalise_url(PG_URL)).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    """An engine on a fresh, migrated store."""
    engine = make_engine(store_url)
    ensure_current(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[Engine]:  # noqa: ANN001
    """For tests about files and messages, where the backend does not matter."""
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    ensure_current(engine)
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def _settings_read_per_test() -> Iterator[None]:
    """Each test reads the environment it set up: the CLI caches its settings per process
    (`get_settings`), and every test runs in the same process."""
    from relmark.config import get_settings

    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
