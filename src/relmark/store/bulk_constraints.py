"""Constraints during a large load: checked once per batch, indexes built once after it.

Per-row foreign-key triggers and per-row index insertions at random places dominate a
million-row load; both backends advise checking and indexing once, after the rows are in.
Everything happens inside the load's transaction, so a failure restores the schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, text

#: Above this many rows, PostgreSQL checks foreign keys once per batch instead of per row.
SET_BASED_FK_CHECK_ROWS = 20_000


@contextmanager
def foreign_keys_checked_once(connection: Connection, table: str, *, rows: int) -> Iterator[None]:
    """Check `table`'s foreign keys with one set-based query per constraint, not per row.

    PostgreSQL's per-row referential-integrity triggers cost about 5 µs per key per row, two
    thirds of a million-row load. Inside the load's transaction the constraints are dropped,
    the rows written, and the constraints re-added `NOT VALID` and then validated: one
    anti-join each, so a broken reference still fails the whole import. (SQLite loads run in
    `bulk_transaction`, where the loaders' own lookups guarantee the references.)
    """
    if connection.dialect.name != "postgresql" or rows < SET_BASED_FK_CHECK_ROWS:
        yield
        return
    constraints = connection.execute(
        text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = CAST(:t AS regclass) AND contype = 'f'"
        ),
        {"t": table},
    ).fetchall()
    for name, _definition in constraints:
        connection.execute(text(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"'))
    yield
    for name, definition in constraints:
        connection.execute(
            text(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition} NOT VALID')
        )
        connection.execute(text(f'ALTER TABLE "{table}" VALIDATE CONSTRAINT "{name}"'))


@contextmanager
def indexes_rebuilt_after(connection: Connection, table: str, *, rows: int) -> Iterator[None]:
    """Build `table`'s secondary indexes once after a load that at least doubles the table,
    instead of updating them row by row.

    Both backends advise it for populating a table: a sorted index build costs a fraction of
    a million single-row insertions at random places (PostgreSQL: a million-order load from
    13.7 s to ~9 s; SQLite: the `(customer_id, ordered_at)` index cost ~3 s of it). The
    indexes are dropped and re-created inside the load's transaction, so a failed load
    restores them and a duplicate key still fails the load (when the unique index is built).
    Left alone: primary keys, SQLite's constraint indexes (which cannot be dropped) and, on
    PostgreSQL, unique constraints that foreign keys reference.
    """
    if rows < SET_BASED_FK_CHECK_ROWS:
        yield
        return
    existing = connection.execute(
        text(f'SELECT COUNT(*) FROM (SELECT 1 FROM "{table}" LIMIT :n) AS present'), {"n": rows}
    ).scalar_one()
    if existing >= rows:
        yield
        return
    if connection.dialect.name == "sqlite":
        with _sqlite_indexes_rebuilt_after(connection, table):
            yield
        return
    indexes = connection.execute(
        text(
            "SELECT i.relname, pg_get_indexdef(i.oid), c.conname, pg_get_constraintdef(c.oid) "
            "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid "
            "WHERE x.indrelid = CAST(:t AS regclass) AND NOT x.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' "
            "AND f.conindid = x.indexrelid) ORDER BY i.relname"
        ),
        {"t": table},
    ).fetchall()
    for index, _definition, constraint, _constraint_definition in indexes:
        if constraint:
            connection.execute(text(f'ALTER TABLE "{table}" DROP CONSTRAINT "{constraint}"'))
        else:
            connection.execute(text(f'DROP INDEX "{index}"'))
    yield
    connection.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
    for _index, definition, constraint, constraint_definition in indexes:
        if constraint:
            connection.execute(
                text(f'ALTER TABLE "{table}" ADD CONSTRAINT "{constraint}" {constraint_definition}')
            )
        else:
            connection.execute(text(definition))


@contextmanager
def _sqlite_indexes_rebuilt_after(connection: Connection, table: str) -> Iterator[None]:
    """SQLite keeps each index's `CREATE INDEX` text: drop them, load, run the texts again.

    Indexes that implement UNIQUE or PRIMARY KEY constraints have no text (`sql IS NULL`) and
    cannot be dropped; they stay and are checked row by row.
    """
    driver = connection.connection.driver_connection
    if not driver.in_transaction:  # type: ignore[union-attr]
        # pysqlite opens its transaction at the first INSERT/UPDATE/DELETE only: a DROP INDEX
        # before one would be committed at once, and a failed load could not restore it.
        driver.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]
    indexes = connection.execute(
        text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t "
            "AND sql IS NOT NULL ORDER BY name"
        ),
        {"t": table},
    ).fetchall()
    for name, _definition in indexes:
        connection.execute(text(f'DROP INDEX "{name}"'))
    yield
    for _name, definition in indexes:
        connection.exec_driver_sql(definition)
