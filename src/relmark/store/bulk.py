"""Set-based loading: a frame goes into a temporary staging table, SQL does the rest.

Rows are never turned into ORM objects. SQLite is fed by `executemany` on the raw connection,
PostgreSQL by `COPY`. The staging table gets two bookkeeping columns: `_target_id` (the
existing row with the same key) and `_action` (`insert`, `update` or `same`), which every
later statement and the counts read.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import polars as pl
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Date,
    DateTime,
    Float,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    text,
)
from sqlalchemy.types import TypeEngine

from relmark.store.dialects import dialect_of

SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%6f"
PG_TIME = "%Y-%m-%d %H:%M:%S.%6f+00:00"


def _column_type(name: str, dtype: pl.DataType, target: Table | None) -> TypeEngine:
    if target is not None and name in target.c:
        return target.c[name].type
    if dtype == pl.Int64 or dtype == pl.Int32 or dtype == pl.UInt32:
        return BigInteger()
    if dtype == pl.Float64:
        return Float()
    if dtype == pl.Date:
        return Date()
    if isinstance(dtype, pl.Datetime):
        return DateTime(timezone=True)
    return Text()


def stage(
    connection: Connection,
    name: str,
    frame: pl.DataFrame,
    target: Table | None = None,
    index: Sequence[str] = (),
) -> Table:
    """Create temporary table `name` shaped like `frame` (typed like `target`) and fill it."""
    metadata = MetaData()
    columns = [Column(c, _column_type(c, t, target)) for c, t in frame.schema.items()]
    columns += [Column("_target_id", BigInteger), Column("_action", String(10))]
    table = Table(name, metadata, *columns, prefixes=["TEMPORARY"])
    table.drop(connection, checkfirst=True)
    table.create(connection)
    if frame.height:
        _fill(connection, name, _storable(frame, connection.dialect.name))
    if index:
        cols = ", ".join(f'"{c}"' for c in index)
        connection.execute(text(f'CREATE INDEX "ix_{name}" ON "{name}" ({cols})'))
    if connection.dialect.name == "postgresql":
        connection.execute(text(f'ANALYZE "{name}"'))
    return table


def _storable(frame: pl.DataFrame, dialect: str) -> pl.DataFrame:
    """Temporal values as text in the exact form the store keeps them (and compares them)."""
    fmt = SQLITE_TIME if dialect == "sqlite" else PG_TIME
    casts = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.Datetime):
            casts.append(pl.col(name).dt.convert_time_zone("UTC").dt.strftime(fmt))
        elif dtype == pl.Date:
            casts.append(pl.col(name).dt.strftime("%Y-%m-%d"))
    return frame.with_columns(casts) if casts else frame


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def _fill(connection: Connection, name: str, frame: pl.DataFrame) -> None:
    driver = connection.connection.driver_connection
    columns = _quoted(frame.columns)
    if connection.dialect.name == "postgresql":
        buffer = io.BytesIO()
        frame.write_csv(buffer, include_header=False, null_value="", quote_style="non_numeric")
        with (
            driver.cursor() as cursor,
            cursor.copy(  # type: ignore[union-attr]
                f'COPY "{name}" ({columns}) FROM STDIN (FORMAT csv)'
            ) as copy,
        ):
            copy.write(buffer.getvalue())
        return
    marks = ", ".join("?" for _ in frame.columns)
    cursor = driver.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(f'INSERT INTO "{name}" ({columns}) VALUES ({marks})', frame.iter_rows())
    finally:
        cursor.close()


def classify(
    connection: Connection, staged: str, target: str, keys: Sequence[str], values: Sequence[str]
) -> None:
    """Mark each staged row `insert`, `update` (some value differs) or `same`.

    A join finds the existing rows, one scan marks `insert` or `same`, and a join turns
    `same` into `update` where a value differs.
    """
    on = " AND ".join(f't."{k}" = "{staged}"."{k}"' for k in keys)
    connection.execute(
        text(f'UPDATE "{staged}" SET _target_id = t.id FROM "{target}" t WHERE {on}')
    )
    connection.execute(
        text(
            f'UPDATE "{staged}" SET _action = '
            "CASE WHEN _target_id IS NULL THEN 'insert' ELSE 'same' END"
        )
    )
    differs = " OR ".join(f't."{v}" IS DISTINCT FROM "{staged}"."{v}"' for v in values)
    if differs:
        connection.execute(
            text(
                f'UPDATE "{staged}" SET _action = \'update\' FROM "{target}" t '
                f'WHERE t.id = "{staged}"._target_id AND ({differs})'
            )
        )


def apply_updates(
    connection: Connection,
    staged: str,
    target: str,
    values: Sequence[str],
    extra: dict[str, str] | None = None,
    params: dict[str, object] | None = None,
    types: dict[str, TypeEngine] | None = None,
) -> None:
    """Copy the staged values onto rows marked `update`; `extra` sets more columns by SQL."""
    sets = [f'"{v}" = s."{v}"' for v in values]
    sets += [f'"{c}" = {expr}' for c, expr in (extra or {}).items()]
    statement = text(
        f'UPDATE "{target}" SET {", ".join(sets)} FROM "{staged}" s '
        f"WHERE \"{target}\".id = s._target_id AND s._action = 'update'"
    )
    connection.execute(_bind(statement, types), params or {})


def apply_inserts(
    connection: Connection,
    staged: str,
    target: str,
    columns: Sequence[str],
    extra: dict[str, str] | None = None,
    params: dict[str, object] | None = None,
    types: dict[str, TypeEngine] | None = None,
    order_by: str = "__line",
) -> None:
    """Insert rows marked `insert`, in file order; `extra` adds columns computed in SQL."""
    names = [*columns, *(extra or {})]
    selected = [f's."{c}"' for c in columns] + list((extra or {}).values())
    statement = text(
        f'INSERT INTO "{target}" ({_quoted(names)}) '
        f"SELECT {', '.join(selected)} FROM \"{staged}\" s WHERE s._action = 'insert' "
        f'ORDER BY s."{order_by}"'
    )
    connection.execute(_bind(statement, types), params or {})


def _bind(statement: object, types: dict[str, TypeEngine] | None):  # noqa: ANN202
    if not types:
        return statement
    return statement.bindparams(*(bindparam(k, type_=t) for k, t in types.items()))  # type: ignore[attr-defined]


def action_counts(connection: Connection, staged: str) -> dict[str, int]:
    rows = connection.execute(text(f'SELECT _action, COUNT(*) FROM "{staged}" GROUP BY _action'))
    counts = {"insert": 0, "update": 0, "same": 0}
    counts.update({str(action): int(n) for action, n in rows})
    return counts


def read_frame(
    connection: Connection,
    sql: str,
    params: dict[str, object] | None = None,
    schema: dict[str, pl.DataType] | None = None,
) -> pl.DataFrame:
    """A query's rows as a Polars frame (keys and ids for lookups; small to medium results)."""
    result = connection.execute(text(sql), params or {})
    names = list(result.keys())
    rows = result.fetchall()
    return pl.DataFrame(rows, schema=schema or names, orient="row")


__all__ = [
    "action_counts",
    "apply_inserts",
    "apply_updates",
    "classify",
    "dialect_of",
    "read_frame",
    "stage",
]


def append(connection: Connection, table: Table, frame: pl.DataFrame) -> int:
    """Insert every row of `frame` into `table` (columns by name) through a staging table."""
    staged = f"stg_{table.name}"
    stage(connection, staged, frame, table)
    columns = _quoted([c for c in frame.columns if c in table.c])
    result = connection.execute(
        text(f'INSERT INTO "{table.name}" ({columns}) SELECT {columns} FROM "{staged}"')
    )
    return int(result.rowcount or 0)
