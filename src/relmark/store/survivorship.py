"""Survivorship: the value a merged profile shows for each field, chosen from its records.

Per field, the best value wins: a well-formed one over one typed in shouting or whispering
case ("DANIEL", "daniel"), an e-mail as its normalised key, a phone as its E.164 number;
among equally good values the source listed first in the store setting
`identity.source_priority` (e.g. ["shopify", "web"]), then the most recently updated record.
The records keep what their sources said: only the profile shows the choice, so an unmerge
or a later import chooses again from what is there.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl
from sqlalchemy import Connection, bindparam, func, select, text, update

from relmark.store import kv, rectification
from relmark.store.bulk import stage
from relmark.store.models import PROFILE_COLUMNS, Customer, SourceRecord

SOURCE_PRIORITY_KEY = "identity.source_priority"
#: Fields people type as words, where case is a sign of care.
WORDS = ("first_name", "last_name", "region", "city", "address")
FIELDS = [c for c in PROFILE_COLUMNS if c != "attributes"]


def source_priority(connection: Connection) -> list[str]:
    value = kv.get_setting(connection, SOURCE_PRIORITY_KEY)
    return [str(s) for s in value] if isinstance(value, list) else []


def set_source_priority(connection: Connection, sources: list[str], now: datetime) -> None:
    kv.put_setting(connection, SOURCE_PRIORITY_KEY, sources, now)


def _case_quality(column: str) -> pl.Expr:
    """2 for mixed case ("Daniel", "van Dijk"), 1 for one case only, 0 for missing."""
    value = pl.col(column)
    letters = value.str.replace_all(r"[^\p{L}]", "")
    one_case = (letters == letters.str.to_uppercase()) | (letters == letters.str.to_lowercase())
    return (
        pl.when(value.is_null())
        .then(0)
        .when(one_case & (letters.str.len_chars() > 1))
        .then(1)
        .otherwise(2)
    )


def best_values(records: pl.DataFrame, priority: list[str]) -> pl.DataFrame:
    """One row per customer_id with the best value of each field (see the module doc).

    `records`: customer_id, id, source, updated_at, email_key, phone_key and the fields."""
    rank = {source: i for i, source in enumerate(priority)}
    ranked = records.with_columns(
        pl.col("source")
        .replace_strict(rank, default=len(rank), return_dtype=pl.Int64)
        .alias("_source_rank"),
        # a usable key is shown as the key: trimmed, case-folded e-mail; E.164 phone
        pl.coalesce("email_key", "email").alias("email"),
        pl.coalesce("phone_key", "phone").alias("phone"),
    )
    chosen = []
    for column in FIELDS:
        quality = _case_quality(column) if column in WORDS else pl.col(column).is_not_null()
        chosen.append(
            ranked.filter(pl.col(column).is_not_null())
            .with_columns(quality.cast(pl.Int64).alias("_quality"))
            .sort(
                ["customer_id", "_quality", "_source_rank", "updated_at", "id"],
                descending=[False, True, False, True, True],
            )
            .group_by("customer_id", maintain_order=True)
            .agg(pl.col(column).first())
        )
    out = records.select("customer_id").unique()
    for frame in chosen:
        out = out.join(frame, on="customer_id", how="left")
    return out.select("customer_id", *FIELDS).sort("customer_id")


def _schema(columns: list[str]) -> dict[str, pl.DataType]:
    typed: dict[str, pl.DataType] = {
        "customer_id": pl.Int64(),
        "id": pl.Int64(),
        "birthday": pl.Date(),
        "updated_at": pl.Datetime(time_zone="UTC"),
        "customer_since": pl.Datetime(time_zone="UTC"),
    }
    return {c: typed.get(c, pl.String()) for c in columns}


def refresh_profiles(connection: Connection, customer_ids: list[int], now: datetime) -> None:
    """Set each profile's fields to the best of its records' values."""
    if not customer_ids:
        return
    table = SourceRecord.__table__
    wanted = ["customer_id", "id", "source", "updated_at", "email_key", "phone_key", *FIELDS]
    rows = connection.execute(
        select(*(table.c[c] for c in wanted)).where(
            SourceRecord.customer_id.in_(bindparam("ids", expanding=True))
        ),
        {"ids": customer_ids},
    ).fetchall()
    records = pl.DataFrame([tuple(r) for r in rows], orient="row", schema=_schema(wanted))
    if records.height:
        best = best_values(records, source_priority(connection))
        stage(connection, "stg_profiles", best, Customer.__table__)  # type: ignore[arg-type]
        sets = ", ".join(f'"{c}" = s."{c}"' for c in FIELDS)
        connection.execute(
            text(
                f"UPDATE customers SET {sets} FROM stg_profiles s "
                "WHERE customers.id = s.customer_id"
            )
        )
    connection.execute(update(Customer).where(Customer.id.in_(customer_ids)).values(updated_at=now))
    # a value the customer had corrected wins over every source's (until corrected again)
    rectification.reapply(connection, customer_ids)


def changed_since(connection: Connection, since: datetime | None) -> list[int]:
    """Live customers with more than one record, one of them changed after `since` (all
    such customers when None): an import writes the changed record's values over the
    profile, and survivorship must choose again."""
    query = (
        select(SourceRecord.customer_id)
        .join(Customer, Customer.id == SourceRecord.customer_id)
        .where(Customer.merged_into_id.is_(None))
        .group_by(SourceRecord.customer_id)
        .having(func.count() > 1)
    )
    if since is not None:
        query = query.having(func.max(SourceRecord.updated_at) > since)
    return sorted(int(r) for (r,) in connection.execute(query))
