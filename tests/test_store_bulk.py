"""Bulk loads keep referential integrity, whichever way each backend checks it."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import IntegrityError

from relmark.store.bulk import (
    SET_BASED_FK_CHECK_ROWS,
    foreign_keys_checked_once,
    indexes_rebuilt_after,
)
from relmark.store.db import bulk_transaction

from .helpers import count, run_import, write_csv


def _foreign_keys(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            return len(connection.exec_driver_sql(f"PRAGMA foreign_key_list({table})").all())
        return int(
            connection.execute(
                text(
                    "SELECT COUNT(*) FROM pg_constraint WHERE conrelid = CAST(:t AS regclass) "
                    "AND contype = 'f'"
                ),
                {"t": table},
            ).scalar_one()
        )


def _indexes(engine: Engine, table: str) -> list[tuple[str, str]]:
    """(name, definition) of every index on `table`, the unique constraints' included."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.exec_driver_sql(
                f"SELECT name, COALESCE(sql, '') FROM sqlite_master WHERE type = 'index' "
                f"AND tbl_name = '{table}' ORDER BY name"
            ).all()
        else:
            rows = connection.execute(
                text(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t "
                    "AND schemaname = current_schema() ORDER BY indexname"
                ),
                {"t": table},
            ).all()
    return [(str(name), str(definition)) for name, definition in rows]


def test_large_batches_keep_their_constraints(engine: Engine, tmp_path) -> None:
    rows = SET_BASED_FK_CHECK_ROWS + 500
    path = write_csv(
        tmp_path,
        "orders.csv",
        ["order_id", "customer_id", "ordered_at", "amount"],
        [[f"O{i}", f"C{i % 300}", "2026-01-05", "10"] for i in range(rows)],
    )
    before = _foreign_keys(engine, "orders")
    indexes = _indexes(engine, "orders")

    run_import(engine, "orders", path, create_missing=True)

    assert count(engine, "orders") == rows
    assert _foreign_keys(engine, "orders") == before == 3
    # rebuilt after the load (the table was empty): the same indexes again
    assert _indexes(engine, "orders") == indexes
    assert len(indexes) >= 3
    assert _foreign_keys(engine, "customer_events") == 2


def test_a_broken_reference_in_a_large_batch_still_fails(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite bulk loads rely on the loaders' lookups (see bulk_transaction)")
    with (
        pytest.raises(IntegrityError),
        engine.begin() as connection,
        foreign_keys_checked_once(connection, "support_contacts", rows=SET_BASED_FK_CHECK_ROWS),
    ):
        connection.execute(
            text(
                "INSERT INTO support_contacts (customer_id, at, channel, reason, minutes) "
                "VALUES (424242, now(), 'email', 'delivery', 5)"
            )
        )
    assert count(engine, "support_contacts") == 0
    assert _foreign_keys(engine, "support_contacts") == 1


def test_a_duplicate_key_in_a_load_with_rebuilt_indexes_still_fails(engine: Engine) -> None:
    indexes = _indexes(engine, "partners")
    with (
        pytest.raises(IntegrityError),
        bulk_transaction(engine) as connection,
        indexes_rebuilt_after(connection, "partners", rows=SET_BASED_FK_CHECK_ROWS),
    ):
        connection.execute(
            text(
                "INSERT INTO partners (external_id, name, kind) "
                "VALUES ('P1', 'One', 'agency'), ('P1', 'Same id', 'agency')"
            )
        )
    assert count(engine, "partners") == 0
    assert _indexes(engine, "partners") == indexes
    assert any("external_id" in definition or "autoindex" in name for name, definition in indexes)


def _probe_table(engine: Engine) -> None:
    """A table whose uniqueness lives in a separate unique index (dropped during a load)."""
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE bulk_probe (id INTEGER PRIMARY KEY, k TEXT)"))
        connection.execute(text("CREATE UNIQUE INDEX ux_bulk_probe_k ON bulk_probe (k)"))
        connection.execute(text("CREATE INDEX ix_bulk_probe_k_id ON bulk_probe (k, id)"))
        connection.execute(text("INSERT INTO bulk_probe (id, k) VALUES (1, 'kept')"))


def test_a_duplicate_caught_only_by_the_rebuilt_unique_index_fails_and_changes_nothing(
    engine: Engine,
) -> None:
    # given a table whose unique index is dropped for the load and built again after it
    _probe_table(engine)
    indexes = _indexes(engine, "bulk_probe")
    # when a large load brings a key twice (and one the table already had)
    during: set[str] = set()

    def load() -> None:
        with (
            bulk_transaction(engine) as connection,
            indexes_rebuilt_after(connection, "bulk_probe", rows=SET_BASED_FK_CHECK_ROWS),
        ):
            during.update(_index_names(connection, "bulk_probe"))
            connection.execute(
                text("INSERT INTO bulk_probe (id, k) VALUES (2, 'new'), (3, 'new'), (4, 'kept')")
            )

    with pytest.raises(IntegrityError):
        load()
    # then the load failed as a whole and the indexes are the same as before
    assert "ux_bulk_probe_k" not in during
    assert count(engine, "bulk_probe") == 1
    assert _indexes(engine, "bulk_probe") == indexes


def _index_names(connection: Connection, table: str) -> set[str]:
    if connection.dialect.name == "sqlite":
        statement = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :t"
    else:
        statement = (
            "SELECT indexname FROM pg_indexes WHERE tablename = :t "
            "AND schemaname = current_schema()"
        )
    return {str(name) for (name,) in connection.execute(text(statement), {"t": table})}


def test_large_load_into_an_empty_table_builds_secondary_indexes_after_the_insert(
    engine: Engine,
) -> None:
    indexes = _indexes(engine, "orders")
    with bulk_transaction(engine) as connection:
        with indexes_rebuilt_after(connection, "orders", rows=SET_BASED_FK_CHECK_ROWS):
            during = _index_names(connection, "orders")
        after = _index_names(connection, "orders")
    # the customer timeline index is not maintained row by row during the load, on any backend
    assert "ix_orders_customer_time" not in during
    assert "ix_orders_partner" not in during
    assert after == {name for name, _ in indexes}
    assert _indexes(engine, "orders") == indexes


def test_small_loads_and_loads_into_a_larger_table_keep_their_indexes(
    engine: Engine, tmp_path
) -> None:
    # given a table that already holds more rows than the load brings
    _probe_table(engine)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO bulk_probe (id, k) VALUES "
                + ", ".join(f"({i + 10}, 'k{i}')" for i in range(30))
            )
        )
    # when loads run that are small, or would not double the table
    with bulk_transaction(engine) as connection:
        with indexes_rebuilt_after(connection, "bulk_probe", rows=SET_BASED_FK_CHECK_ROWS - 1):
            small = _index_names(connection, "bulk_probe")
        with indexes_rebuilt_after(connection, "bulk_probe", rows=30):
            not_doubling = _index_names(connection, "bulk_probe")
    # then the indexes stay in place (maintained row by row)
    assert "ux_bulk_probe_k" in small
    assert "ux_bulk_probe_k" in not_doubling
