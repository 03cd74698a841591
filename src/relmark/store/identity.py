"""Identity in the store: match keys on records, merges applied and undone, set-based."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import Connection, bindparam, select, text, update

from relmark.enums import EventKind
from relmark.errors import RelmarkError
from relmark.store import consents, restriction, survivorship
from relmark.store.bulk import stage
from relmark.store.dialects import dialect_of
from relmark.store.models import Customer, Merge, ReviewPair, SourceRecord
from relmark.store.types import UTCDateTime

#: Record columns identity resolution reads, with their types.
RECORD_COLUMNS: dict[str, pl.DataType] = {
    "id": pl.Int64(),
    "customer_id": pl.Int64(),
    "email": pl.String(),
    "phone": pl.String(),
    "country": pl.String(),
    "email_key": pl.String(),
    "phone_key": pl.String(),
    "key_problems": pl.String(),
    "first_name": pl.String(),
    "last_name": pl.String(),
    "birthday": pl.Date(),
    "city": pl.String(),
    "postcode": pl.String(),
    "address": pl.String(),
}


def live_records(connection: Connection) -> pl.DataFrame:
    """Every record of a live (not merged-away) customer, with what matching needs."""
    table = SourceRecord.__table__
    rows = connection.execute(
        select(*(table.c[name] for name in RECORD_COLUMNS))
        .join(Customer, Customer.id == SourceRecord.customer_id)
        .where(Customer.merged_into_id.is_(None))
    ).fetchall()
    return pl.DataFrame(rows, orient="row", schema=RECORD_COLUMNS)


def updated_since(connection: Connection, since: datetime) -> list[int]:
    """Ids of records an import changed after `since` (their fields may now match others)."""
    rows = connection.execute(
        select(SourceRecord.id).where(SourceRecord.updated_at > since).order_by(SourceRecord.id)
    )
    return [int(r) for (r,) in rows]


def save_keys(connection: Connection, keys: pl.DataFrame) -> None:
    """Write email_key, phone_key, key_problems for the given record ids."""
    stage(connection, "stg_keys", keys)
    connection.execute(
        text(
            "UPDATE source_records SET email_key = s.email_key, phone_key = s.phone_key, "
            "key_problems = s.key_problems FROM stg_keys s WHERE source_records.id = s.id"
        )
    )


def undone_pairs(connection: Connection) -> set[tuple[int, int]]:
    """Pairs a person split apart by unmerge: never joined again automatically."""
    rows = connection.execute(
        select(Merge.survivor_id, Merge.absorbed_id).where(Merge.undone_at.is_not(None))
    )
    return {(min(a, b), max(a, b)) for a, b in rows}


def apply_merges(
    connection: Connection, merges: list[dict[str, Any]], *, kind: str, now: datetime
) -> int:
    """Fold each absorbed customer into its survivor: records, orders and consents move,
    the absorbed profile points at the survivor, the survivor's profile is refreshed."""
    if not merges:
        return 0
    mapping = pl.DataFrame(
        {
            "absorbed_id": [m["absorbed_id"] for m in merges],
            "survivor_id": [m["survivor_id"] for m in merges],
        }
    )
    stage(connection, "stg_merge_map", mapping)
    # Messages move too: the survivor's contact budget must count what the absorbed got.
    for table in ("source_records", "orders", "consents", "messages", "message_events"):
        connection.execute(
            text(
                f"UPDATE {table} SET customer_id = m.survivor_id FROM stg_merge_map m "
                f"WHERE {table}.customer_id = m.absorbed_id"
            )
        )
    restriction.carry_over_merges(connection, "stg_merge_map", now)
    connection.execute(
        text(
            "UPDATE customers SET merged_into_id = m.survivor_id, updated_at = :now "
            "FROM stg_merge_map m WHERE customers.id = m.absorbed_id"
        ).bindparams(bindparam("now", type_=UTCDateTime())),
        {"now": now},
    )
    ids = []
    for merge in merges:
        merge_id = connection.execute(
            Merge.__table__.insert()
            .values(at=now, kind=kind, undone_at=None, **merge)
            .returning(Merge.id)
        ).scalar_one()
        ids.append(merge_id)
    _log(connection, EventKind.CUSTOMER_MERGED, ids, now)
    refresh_profiles(connection, sorted({m["survivor_id"] for m in merges}), now)
    return len(merges)


def _log(connection: Connection, kind: EventKind, merge_ids: list[int], now: datetime) -> None:
    parameters = dialect_of(connection).json_object(
        {
            "merge_id": "m.id",
            "survivor_id": "m.survivor_id",
            "absorbed_id": "m.absorbed_id",
            "kind": "m.kind",
        }
    )
    statement = text(
        "INSERT INTO customer_events (at, customer_id, kind, parameters) "
        f"SELECT :now, m.survivor_id, '{kind}', {parameters} FROM merges m "
        "WHERE m.id IN :ids UNION ALL "
        f"SELECT :now, m.absorbed_id, '{kind}', {parameters} FROM merges m WHERE m.id IN :ids"
    ).bindparams(bindparam("now", type_=UTCDateTime()), bindparam("ids", expanding=True))
    connection.execute(statement, {"now": now, "ids": merge_ids})


def refresh_profiles(connection: Connection, customer_ids: list[int], now: datetime) -> None:
    """Survivorship: each field's best value among the profile's records (see
    `relmark.store.survivorship`)."""
    survivorship.refresh_profiles(connection, customer_ids, now)


def unmerge(connection: Connection, customer_id: int, now: datetime) -> list[int]:
    """Undo the merges that folded `customer_id` away, or that folded others into it.

    Records listed in each merge go back to their profile, and with them their orders and
    consents. Returns the customers restored.
    """
    merges = connection.execute(
        select(Merge.__table__)
        .where(Merge.undone_at.is_(None))
        .where((Merge.absorbed_id == customer_id) | (Merge.survivor_id == customer_id))
    ).all()
    if not merges:
        known = connection.execute(select(Customer.id).where(Customer.id == customer_id)).first()
        if known is None:
            raise RelmarkError(f"no customer {customer_id}")
        undone = connection.execute(
            select(Merge.id).where(
                (Merge.absorbed_id == customer_id) | (Merge.survivor_id == customer_id)
            )
        ).first()
        if undone is not None:
            raise RelmarkError(f"customer {customer_id}'s merges are already undone")
        raise RelmarkError(f"customer {customer_id} was never merged: nothing to undo")
    restored = []
    for merge in merges:
        records = list(merge.record_ids)
        params = {"to": merge.absorbed_id, "records": records}
        for table, column in (
            ("source_records", "id"),
            ("orders", "source_record_id"),
            ("consents", "source_record_id"),
        ):
            connection.execute(
                text(f"UPDATE {table} SET customer_id = :to WHERE {column} IN :records").bindparams(
                    bindparam("records", expanding=True)
                ),
                params,
            )
        connection.execute(
            update(Customer)
            .where(Customer.id == merge.absorbed_id)
            .values(merged_into_id=None, updated_at=now)
        )
        connection.execute(update(Merge).where(Merge.id == merge.id).values(undone_at=now))
        restored.append(merge.absorbed_id)
    _log(connection, EventKind.CUSTOMER_UNMERGED, [m.id for m in merges], now)
    refresh_profiles(connection, sorted({m.survivor_id for m in merges} | set(restored)), now)
    return restored


def merges_of(connection: Connection, customer_id: int) -> list[dict[str, Any]]:
    """Every merge a customer took part in, newest first, with its evidence."""
    rows = (
        connection.execute(
            select(Merge.__table__)
            .where((Merge.absorbed_id == customer_id) | (Merge.survivor_id == customer_id))
            .order_by(Merge.at.desc(), Merge.id.desc())
        )
        .mappings()
        .all()
    )
    return [
        {
            "merge_id": m["id"],
            **{
                k: m[k]
                for k in (
                    "at",
                    "kind",
                    "survivor_id",
                    "absorbed_id",
                    "probability",
                    "evidence",
                    "record_ids",
                    "undone_at",
                )
            },
        }
        for m in rows
    ]


def identities(connection: Connection) -> pl.DataFrame:
    """source, external_id, customer_id (the live profile) for every source record."""
    rows = connection.execute(
        text(
            "SELECT source, external_id, customer_id FROM source_records "
            "ORDER BY source, external_id"
        )
    ).fetchall()
    return pl.DataFrame(
        rows,
        orient="row",
        schema={"source": pl.String, "external_id": pl.String, "customer_id": pl.Int64},
    )


def effective_consents(connection: Connection, customer_id: int) -> list[dict[str, Any]]:
    """Per purpose and channel, the statement that holds, with its proof (see
    `relmark.store.consents` for the rule)."""
    held = consents.effective(consents.latest_statements(connection, customer_id=customer_id))
    columns = ["purpose", "channel", "status", "proof", "source", "recorded_at", "source_record_id"]
    return held.sort("purpose", "channel").select(columns).to_dicts()


def excluded_pairs(connection: Connection) -> set[tuple[int, int]]:
    """Pairs never to merge automatically: undone merges and pairs in the review queue
    (waiting for a person, or already decided by one)."""
    queued = connection.execute(select(ReviewPair.customer_a, ReviewPair.customer_b))
    return undone_pairs(connection) | {(min(a, b), max(a, b)) for a, b in queued}


def queue_reviews(
    connection: Connection, pairs: list[tuple[int, int, float, dict[str, str]]], now: datetime
) -> int:
    """Add pairs to the review queue unless they are already there (in any state)."""
    known = {
        (a, b) for a, b in connection.execute(select(ReviewPair.customer_a, ReviewPair.customer_b))
    }
    fresh = [
        {
            "customer_a": a,
            "customer_b": b,
            "probability": p,
            "evidence": e,
            "status": "pending",
            "created_at": now,
            "decided_at": None,
        }
        for a, b, p, e in pairs
        if (a, b) not in known
    ]
    if fresh:
        connection.execute(ReviewPair.__table__.insert(), fresh)
    return len(fresh)


def reviews(connection: Connection, status: str = "pending") -> list[dict[str, Any]]:
    rows = (
        connection.execute(
            select(ReviewPair.__table__)
            .where(ReviewPair.status == status)
            .order_by(ReviewPair.probability.desc(), ReviewPair.id)
        )
        .mappings()
        .all()
    )
    return [dict(r) for r in rows]


def decide(connection: Connection, review_id: int, accept: bool, now: datetime) -> dict[str, Any]:
    """Accept (merge the two profiles) or reject (keep them apart) a pending review."""
    row = (
        connection.execute(select(ReviewPair.__table__).where(ReviewPair.id == review_id))
        .mappings()
        .first()
    )
    if row is None:
        raise RelmarkError(f"no review pair {review_id} (see `relmark review list`)")
    if row["status"] != "pending":
        raise RelmarkError(f"review pair {review_id} was already {row['status']}")
    connection.execute(
        update(ReviewPair)
        .where(ReviewPair.id == review_id)
        .values(status="accepted" if accept else "rejected", decided_at=now)
    )
    if accept:
        survivor, absorbed = sorted((row["customer_a"], row["customer_b"]))
        moved = [
            r
            for (r,) in connection.execute(
                select(SourceRecord.id).where(SourceRecord.customer_id == absorbed)
            )
        ]
        apply_merges(
            connection,
            [
                {
                    "survivor_id": survivor,
                    "absorbed_id": absorbed,
                    "probability": row["probability"],
                    "evidence": row["evidence"],
                    "record_ids": moved,
                }
            ],
            kind="review",
            now=now,
        )
    return dict(row)
