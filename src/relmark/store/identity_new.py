"""What incremental identity reads: the records no identity run has keyed yet, and the
profiles that share a key with them. Indexed look-ups only, so matching a tracked visitor
costs milliseconds on a store of millions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import polars as pl
from sqlalchemy import Connection, or_, select, text

from relmark.store.identity import RECORD_COLUMNS
from relmark.store.models import Customer, SourceRecord

#: Ids and keys per IN (...) list: well inside every driver's parameter limit.
CHUNK = 500
IDENTITY_LOCK = "relmark:identity"


def lock_identity(connection: Connection) -> None:
    """Serialise identity runs until commit: two runs merging the same pair at once would
    fold a profile twice. SQLite's write transaction already does this."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": IDENTITY_LOCK}
        )


def _columns() -> list:
    table = SourceRecord.__table__
    return [table.c[name] for name in RECORD_COLUMNS]


def _frame(rows: Iterable) -> pl.DataFrame:
    return pl.DataFrame(list(rows), orient="row", schema=RECORD_COLUMNS)


def unkeyed_records(
    connection: Connection, since: datetime | None = None, limit: int | None = None
) -> pl.DataFrame:
    """Records with an e-mail or phone that no identity run has keyed yet: new ones, and
    ones whose contact fields an import or an identify call rewrote (both clear the keys).
    `since` narrows to records changed at or after it."""
    statement = (
        select(*_columns())
        .join(Customer, Customer.id == SourceRecord.customer_id)
        .where(
            Customer.merged_into_id.is_(None),
            SourceRecord.email_key.is_(None),
            SourceRecord.phone_key.is_(None),
            SourceRecord.key_problems.is_(None),
            or_(SourceRecord.email.is_not(None), SourceRecord.phone.is_not(None)),
        )
        .order_by(SourceRecord.id)
    )
    if since is not None:
        statement = statement.where(SourceRecord.updated_at >= since)
    if limit is not None:
        statement = statement.limit(limit)
    return _frame(connection.execute(statement).fetchall())


def records_sharing_keys(
    connection: Connection,
    email_keys: list[str],
    phone_keys: list[str],
    customer_ids: list[int],
) -> pl.DataFrame:
    """Every record of each live profile that holds one of the keys or is one of
    `customer_ids`: all their records, so that first names can tell a family's shared
    address from one person."""
    owners: set[int] = set(customer_ids)
    for column, keys in (
        (SourceRecord.email_key, email_keys),
        (SourceRecord.phone_key, phone_keys),
    ):
        for start in range(0, len(keys), CHUNK):
            owners |= set(
                connection.execute(
                    select(SourceRecord.customer_id).where(column.in_(keys[start : start + CHUNK]))
                ).scalars()
            )
    found = []
    ordered = sorted(owners)
    for start in range(0, len(ordered), CHUNK):
        found += connection.execute(
            select(*_columns())
            .join(Customer, Customer.id == SourceRecord.customer_id)
            .where(
                Customer.merged_into_id.is_(None),
                SourceRecord.customer_id.in_(ordered[start : start + CHUNK]),
            )
        ).fetchall()
    return _frame(found).unique("id").sort("id")
