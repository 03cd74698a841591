"""`relmark status`'s driver-only counts agree with the full path, on every backend, and
step aside whenever the store is not plainly current."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from relmark.config import Settings
from relmark.defaults import database_url_from_environment, timezone_from_environment
from relmark.store.db import make_engine
from relmark.store.migrate import ensure_current, head_revision
from relmark.store.models import Base
from relmark.store.quick_status import TABLES, quick_counts
from relmark.store.status import table_counts


def test_driver_counts_equal_the_full_paths_counts(engine, store_url: str) -> None:  # noqa: ANN001
    # given a current store with rows in a few tables
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO partners (external_id, name, kind) "
            "VALUES ('p1', 'Acme', 'supplier'), ('p2', 'Beta', 'channel')"
        )

    # when both count, then they agree table by table, and every counted table exists
    quick = quick_counts(store_url, head_revision())
    assert quick == table_counts(engine)
    assert quick["partners"] == 2
    assert set(TABLES) <= set(Base.metadata.tables)


def test_an_older_or_missing_store_is_left_to_the_full_path(tmp_path: Path) -> None:
    # given a missing file, a store one revision behind, and URLs the driver path does not read
    older = tmp_path / "older.db"
    engine = make_engine(f"sqlite:///{older}")
    ensure_current(engine)
    engine.dispose()
    with sqlite3.connect(older) as db:
        db.execute("UPDATE alembic_version SET version_num = '0001'")

    # then quick_counts declines each, so the usual creation or refusal happens
    for url in (
        f"sqlite:///{tmp_path / 'missing.db'}",
        f"sqlite:///{older}",
        "sqlite://",
        f"sqlite:///{older}?timeout=5",
        "mysql://root@127.0.0.1/test",
    ):
        assert quick_counts(url, head_revision()) is None, url
    assert not (tmp_path / "missing.db").exists()


@pytest.mark.parametrize(
    "environment",
    [
        {},
        {"RELMARK_DATABASE_URL": "sqlite:///x.db"},
        {"relmark_database_url": "sqlite:///y.db"},
        {"RELMARK_TIMEZONE": "Asia/Almaty"},
        {"Relmark_Timezone": "Europe/Ljubljana"},
    ],
)
def test_the_light_url_reading_agrees_with_settings(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]
) -> None:
    for key in [k for k in os.environ if k.upper().startswith("RELMARK_")]:
        monkeypatch.delenv(key)
    for key, value in environment.items():
        monkeypatch.setenv(key, value)

    settings = Settings()
    assert database_url_from_environment() == settings.database_url
    assert timezone_from_environment() == settings.timezone
