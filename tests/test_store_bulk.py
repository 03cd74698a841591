"""Bulk loads keep referential integrity, whichever way each backend checks it."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from relmark.store.bulk import (
    SET_BASED_FK_CHECK_ROWS,
    foreign_keys_checked_once,
    indexes_rebuilt_after,
)

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
    # rebuilt after the load on PostgreSQL (the table was empty): the same indexes again
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
    if engine.dialect.name != "postgresql":
        pytest.skip("indexes are rebuilt after large loads on PostgreSQL only")
    indexes = _indexes(engine, "partners")
    with (
        pytest.raises(IntegrityError),
        engine.begin() as connection,
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
    assert any("external_id" in definition for _, definition in indexes)
