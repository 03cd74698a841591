"""Set-based loading: a frame goes into a temporary staging table, SQL does the rest.

Rows are never turned into ORM objects. SQLite is fed by `executemany` on the raw connection,
PostgreSQL by `COPY`. The staging table gets two bookkeeping columns: `_target_id` (the
existing row with the same key) and `_action` (`insert`, `update` or `same`), which every
later statement and the counts read.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import polars as pl
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Date,
    DateTime,
    Float,
    MetaData,
    Table,
    Text,
    TextClause,
    bindparam,
    text,
)
from sqlalchemy.types import TypeEngine

from relmark.store.bulk_constraints import (
    SET_BASED_FK_CHECK_ROWS,
    foreign_keys_checked_once,
    indexes_rebuilt_after,
)
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


#: Frames at least this long stage their constant columns as column defaults, not row by row.
CONSTANT_COLUMN_ROWS = 1_000


def stage(
    connection: Connection,
    name: str,
    frame: pl.DataFrame,
    target: Table | None = None,
    index: Sequence[str] = (),
) -> Table:
    """Create temporary table `name` shaped like `frame` (typed like `target`) and fill it.

    Rows go in file order (`__line`), so the table's own order is the file's. A column with
    one value on every row (the source's name, a zero discount) becomes the column's default
    instead of being sent a million times.
    """
    if "__line" in frame.columns and not frame.get_column("__line").is_sorted():
        frame = frame.sort("__line")
    constants = _constant_columns(frame)
    metadata = MetaData()
    columns = [
        Column(c, _column_type(c, t, target), server_default=_default(constants.get(c)))
        for c, t in frame.schema.items()
    ]
    table = Table(name, metadata, *columns, prefixes=["TEMPORARY"])
    table.drop(connection, checkfirst=True)
    table.create(connection)
    if frame.height:
        varying = frame.drop(list(constants))
        _fill(connection, name, _storable(varying, connection.dialect.name))
    if index:
        index_stage(connection, name, index)
    if connection.dialect.name == "postgresql":
        connection.execute(text(f'ANALYZE "{name}"'))
    return table


def _constant_columns(frame: pl.DataFrame) -> dict[str, str | int]:
    """Text and integer columns of a long frame holding one non-null value on every row."""
    candidates = [c for c, t in frame.schema.items() if t == pl.String or t.is_integer()]
    if frame.height < CONSTANT_COLUMN_ROWS or not candidates:
        return {}  # short frames gain nothing
    same = frame.select(
        (pl.col(c).first().is_not_null() & pl.col(c).eq_missing(pl.col(c).first()).all()).alias(c)
        for c in candidates
    ).row(0, named=True)
    found = {c: frame.get_column(c)[0] for c in candidates if same[c]}
    return found if len(found) < frame.width else {}  # at least one column is filled


def _default(value: str | int | None) -> str | TextClause | None:
    """A server default for a constant column: SQLAlchemy quotes text, integers are literal."""
    if value is None or isinstance(value, str):
        return value
    return text(str(int(value)))


def index_stage(connection: Connection, name: str, columns: Sequence[str]) -> None:
    connection.execute(text(f'CREATE INDEX "ix_{name}" ON "{name}" ({_quoted(columns)})'))


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

    The staged table is rebuilt in one pass as itself joined to the target by key, with two
    added columns: `_target_id` (the existing row) and `_action`. One join, no row rewrites.
    """
    raw = f"{staged}_raw"
    connection.execute(text(f'ALTER TABLE "{staged}" RENAME TO "{raw}"'))
    on = " AND ".join(f't."{k}" = s."{k}"' for k in keys)
    differs = " OR ".join(f't."{v}" IS DISTINCT FROM s."{v}"' for v in values) or "FALSE"
    connection.execute(
        text(
            f'CREATE TEMPORARY TABLE "{staged}" AS SELECT s.*, t.id AS _target_id, '
            "CASE WHEN t.id IS NULL THEN 'insert' "
            f"WHEN {differs} THEN 'update' ELSE 'same' END AS _action "
            f'FROM "{raw}" s LEFT JOIN "{target}" t ON {on}'
        )
    )
    connection.execute(text(f'DROP TABLE "{raw}"'))
    if connection.dialect.name == "postgresql":
        connection.execute(text(f'ANALYZE "{staged}"'))


def holds_any(connection: Connection, table: str, where: dict[str, object]) -> bool:
    """Whether `table` has a row with these column values (one index probe when they lead a key)."""
    condition = " AND ".join(f'"{c}" = :{c}' for c in where)
    statement = text(f'SELECT 1 FROM "{table}" WHERE {condition} LIMIT 1')
    return connection.execute(statement, where).first() is not None


def mark_all_inserts(connection: Connection, staged: str) -> dict[str, int]:
    """Classify a staged load whose keys the target cannot hold yet: every row is an insert.

    The caller knows it (say, the first import from a source), so the join that `classify`
    runs and the copy of the staged table it makes are skipped: both bookkeeping columns are
    added with constant values, which neither SQLite nor PostgreSQL writes row by row.
    """
    connection.execute(text(f'ALTER TABLE "{staged}" ADD COLUMN _target_id BIGINT'))
    connection.execute(text(f"ALTER TABLE \"{staged}\" ADD COLUMN _action TEXT DEFAULT 'insert'"))
    rows = connection.execute(text(f'SELECT COUNT(*) FROM "{staged}"')).scalar_one()
    return {"insert": int(rows), "update": 0, "same": 0}


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
    *,
    rows: int | None = None,
    as_staged: bool = False,
) -> int:
    """Insert rows marked `insert`, in file order (ids follow the file); `extra` adds columns
    computed in SQL. `rows`: how many are marked `insert`, when the caller knows (no count).
    `as_staged`: the staged table is as `stage` filled it, already in file order (on SQLite
    its rowid order, which costs no sort)."""
    names = [*columns, *(extra or {})]
    selected = [f's."{c}"' for c in columns] + list((extra or {}).values())
    order = "s.rowid" if as_staged and connection.dialect.name == "sqlite" else "s.__line"
    statement = text(
        f'INSERT INTO "{target}" ({_quoted(names)}) '
        f"SELECT {', '.join(selected)} FROM \"{staged}\" s WHERE s._action = 'insert' "
        f"ORDER BY {order}"
    )
    count = rows
    if count is None:
        count = connection.execute(
            text(f"SELECT COUNT(*) FROM \"{staged}\" WHERE _action = 'insert'")
        ).scalar_one()
    with (
        foreign_keys_checked_once(connection, target, rows=int(count)),
        indexes_rebuilt_after(connection, target, rows=int(count)),
    ):
        connection.execute(_bind(statement, types), params or {})
    return int(count)


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


def fetch_frame(
    connection: Connection,
    statement: Any,
    schema: dict[str, pl.DataType],
    params: dict[str, Any] | None = None,
) -> pl.DataFrame:
    """A query's rows straight from the driver's cursor into Polars, typed by `schema`.

    Skips SQLAlchemy's per-row objects and type processing (a third of the time on a
    million rows): SQLite hands timestamps over as the text the store keeps (UTC), dates as
    text and booleans as 0/1, and they are parsed here, vectorised.
    """
    result = connection.execute(statement, params or {})
    rows = result.cursor.fetchall() if result.cursor is not None else []
    if connection.dialect.name != "sqlite":
        return pl.DataFrame(rows, schema=schema, orient="row")
    raw = {
        name: pl.String
        if isinstance(dtype, pl.Datetime) or dtype == pl.Date
        else (pl.Int64 if dtype == pl.Boolean else dtype)
        for name, dtype in schema.items()
    }
    frame = pl.DataFrame(rows, schema=raw, orient="row")
    casts = []
    for name, dtype in schema.items():
        if isinstance(dtype, pl.Datetime):
            casts.append(
                pl.col(name)
                .str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", time_zone="UTC")
                .alias(name)
            )
        elif dtype == pl.Date:
            casts.append(pl.col(name).str.to_date("%Y-%m-%d").alias(name))
        elif dtype == pl.Boolean:
            casts.append(pl.col(name).cast(pl.Boolean).alias(name))
    return frame.with_columns(casts) if casts else frame


__all__ = [
    "SET_BASED_FK_CHECK_ROWS",
    "action_counts",
    "apply_inserts",
    "apply_updates",
    "classify",
    "dialect_of",
    "fetch_frame",
    "foreign_keys_checked_once",
    "holds_any",
    "indexes_rebuilt_after",
    "mark_all_inserts",
    "read_frame",
    "stage",
]


def insert_rows(connection: Connection, table: Table, frame: pl.DataFrame) -> None:
    """Insert every row of `frame` straight into `table` (columns by name, no staging copy):
    for rows the caller knows to be new."""
    _fill(connection, table.name, _storable(frame, connection.dialect.name))


def append(connection: Connection, table: Table, frame: pl.DataFrame) -> int:
    """Insert every row of `frame` into `table` (columns by name) through a staging table."""
    staged = f"stg_{table.name}"
    stage(connection, staged, frame, table)
    columns = _quoted([c for c in frame.columns if c in table.c])
    result = connection.execute(
        text(f'INSERT INTO "{table.name}" ({columns}) SELECT {columns} FROM "{staged}"')
    )
    return int(result.rowcount or 0)
