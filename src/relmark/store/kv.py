"""Values kept with the store by key (JSON): policies, trained models, markers, secrets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from relmark.store.models import StoreSetting


def get_setting(connection: Connection, key: str) -> Any:
    return connection.execute(
        select(StoreSetting.value).where(StoreSetting.key == key)
    ).scalar_one_or_none()


def put_setting(connection: Connection, key: str, value: Any, now: datetime) -> None:
    table = StoreSetting.__table__
    if connection.dialect.name == "postgresql":
        statement = pg_insert(table).values(key=key, value=value, updated_at=now)
        statement = statement.on_conflict_do_update(
            index_elements=["key"], set_={"value": value, "updated_at": now}
        )
        connection.execute(statement)
        return
    statement = sqlite_insert(table).values(key=key, value=value, updated_at=now)
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=["key"], set_={"value": value, "updated_at": now}
        )
    )


def settings_with_prefix(connection: Connection, prefix: str) -> dict[str, Any]:
    """Every value whose key starts with `prefix` (one query: a page reads them together)."""
    rows = connection.execute(
        select(StoreSetting.key, StoreSetting.value).where(StoreSetting.key.startswith(prefix))
    )
    return {str(key): value for key, value in rows}


def delete_setting(connection: Connection, key: str) -> bool:
    """Remove the value at `key`; False when there was none."""
    result = connection.execute(delete(StoreSetting).where(StoreSetting.key == key))
    return bool(result.rowcount)
