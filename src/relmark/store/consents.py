"""Consent statements: record them with proof, and decide which one holds.

The rule, per customer, purpose and channel: take the latest statement of each source record
(a merged profile has several) and the latest statement made to relmark directly (an
unsubscribe link, the preference centre, `relmark consent`). A direct statement supersedes
every older record statement; of what remains, the most restrictive holds: a withdrawal on
any record stands until the customer says otherwise to us directly. Below a withdrawal come
a grant, a grant waiting for its confirming click (`pending`), then a source's unticked box
(`not_granted`): only `granted` is consent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import Connection, insert, select, text

from relmark.enums import CONSENT_PRECEDENCE, ConsentStatus, EventKind
from relmark.store import kv
from relmark.store.bulk import fetch_frame
from relmark.store.models import Consent, CustomerEvent
from relmark.store.types import UTCDateTime

STATEMENT_COLUMNS = [
    "id",
    "customer_id",
    "source_record_id",
    "purpose",
    "channel",
    "status",
    "lawful_basis",
    "source",
    "proof",
    "wording_version",
    "recorded_at",
]
SCHEMA = {
    "id": pl.Int64,
    "customer_id": pl.Int64,
    "source_record_id": pl.Int64,
    "purpose": pl.String,
    "channel": pl.String,
    "status": pl.String,
    "lawful_basis": pl.String,
    "source": pl.String,
    "proof": pl.String,
    "wording_version": pl.String,
    "recorded_at": pl.Datetime("us", "UTC"),
}


#: The store setting that turns double opt-in on for e-mail marketing.
DOUBLE_OPT_IN_KEY = "consent.double_opt_in"
LAWFUL_BASIS = {
    ConsentStatus.GRANTED.value: "consent",
    ConsentStatus.WITHDRAWN.value: "withdrawal",
    ConsentStatus.PENDING.value: "consent unconfirmed",
    ConsentStatus.NOT_GRANTED.value: "none",
}


def double_opt_in(connection: Connection) -> bool:
    """Whether a new e-mail marketing consent waits for the customer's confirming click."""
    return bool(kv.get_setting(connection, DOUBLE_OPT_IN_KEY))


def set_double_opt_in(connection: Connection, on: bool, now: datetime) -> None:
    kv.put_setting(connection, DOUBLE_OPT_IN_KEY, on, now)


def lawful_basis_sql(status: str) -> str:
    """The SQL CASE naming the lawful basis of the statement whose status is `status`."""
    cases = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in LAWFUL_BASIS.items())
    return f"(CASE {status} {cases} ELSE 'none' END)"


def _rank_sql(status: str) -> str:
    cases = " ".join(f"WHEN '{k}' THEN {v}" for k, v in CONSENT_PRECEDENCE.items())
    return f"(CASE {status} {cases} ELSE 0 END)"


def latest_statements(
    connection: Connection,
    *,
    customer_id: int | None = None,
    staged_ids: str | None = None,
    channel: str | None = None,
) -> pl.DataFrame:
    """The latest statement of each (customer, purpose, channel, source record); optionally
    for one customer or for the ids in a staged table with a `customer_id` column."""
    where, params = ["1 = 1"], {}
    join = ""
    if customer_id is not None:
        where.append("c.customer_id = :customer")
        params["customer"] = customer_id
    if staged_ids:
        join = f'JOIN "{staged_ids}" s ON s.customer_id = c.customer_id'
    if channel:
        where.append("c.channel = :channel")
        params["channel"] = channel
    columns = ", ".join(f"c.{name}" for name in STATEMENT_COLUMNS)
    statement = text(
        f"SELECT {', '.join(STATEMENT_COLUMNS)} FROM (SELECT {columns}, ROW_NUMBER() OVER ("
        "PARTITION BY c.customer_id, c.purpose, c.channel, c.source_record_id "
        f"ORDER BY c.recorded_at DESC, c.id DESC) AS rn FROM consents c {join} "
        f"WHERE {' AND '.join(where)}) latest WHERE rn = 1"
    ).columns(recorded_at=UTCDateTime())
    rows = connection.execute(statement, params).fetchall()
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


def effective(latest: pl.DataFrame) -> pl.DataFrame:
    """One row per (customer, purpose, channel): the statement that holds (see module doc)."""
    keys = ["customer_id", "purpose", "channel"]
    direct_at = (
        latest.filter(pl.col("source_record_id").is_null())
        .group_by(keys)
        .agg(pl.col("recorded_at").max().alias("direct_at"))
    )
    standing = latest.join(direct_at, on=keys, how="left").filter(
        pl.col("source_record_id").is_null()
        | pl.col("direct_at").is_null()
        | (pl.col("recorded_at") > pl.col("direct_at"))
    )
    rank = pl.col("status").replace_strict(CONSENT_PRECEDENCE, default=0, return_dtype=pl.Int64)
    return (
        standing.with_columns(rank.alias("_rank"))
        .sort(
            [*keys, "_rank", "recorded_at", "id"],
            descending=[False, False, False, True, True, True],
        )
        .unique(subset=keys, keep="first", maintain_order=True)
        .drop("direct_at", "_rank")
    )


def effective_status(connection: Connection, staged_ids: str) -> pl.DataFrame:
    """(customer_id, purpose, channel, status) for the customers in a staged table: the
    rule of `effective`, computed by the database, because planning needs only the status
    and reads it for hundreds of thousands of customers."""
    ranks = {v: k for k, v in CONSENT_PRECEDENCE.items()}
    statement = text(
        "WITH ranked AS (SELECT c.customer_id, c.purpose, c.channel, c.source_record_id, "
        "c.status, c.recorded_at, ROW_NUMBER() OVER (PARTITION BY c.customer_id, c.purpose, "
        "c.channel, c.source_record_id ORDER BY c.recorded_at DESC, c.id DESC) AS rn "
        f'FROM consents c JOIN "{staged_ids}" s ON s.customer_id = c.customer_id), '
        "latest AS (SELECT * FROM ranked WHERE rn = 1), "
        "direct AS (SELECT customer_id, purpose, channel, MAX(recorded_at) AS direct_at "
        "FROM latest WHERE source_record_id IS NULL GROUP BY customer_id, purpose, channel) "
        f"SELECT l.customer_id, l.purpose, l.channel, MAX({_rank_sql('l.status')}) AS rank "
        "FROM latest l LEFT JOIN direct d ON d.customer_id = l.customer_id "
        "AND d.purpose = l.purpose AND d.channel = l.channel "
        "WHERE l.source_record_id IS NULL OR d.direct_at IS NULL OR l.recorded_at > d.direct_at "
        "GROUP BY l.customer_id, l.purpose, l.channel"
    )
    frame = fetch_frame(
        connection,
        statement,
        {
            "customer_id": pl.Int64,
            "purpose": pl.String,
            "channel": pl.String,
            "rank": pl.Int64,
        },
    )
    return frame.select(
        "customer_id",
        "purpose",
        "channel",
        pl.col("rank").replace_strict(ranks, return_dtype=pl.String).alias("status"),
    )


def record(
    connection: Connection,
    *,
    customer_id: int,
    purpose: str,
    channel: str,
    status: ConsentStatus,
    source: str,
    proof: str,
    wording_version: str | None,
    now: datetime,
) -> int:
    """A statement made to relmark directly, with its proof; logged on the timeline."""
    consent_id = connection.execute(
        insert(Consent)
        .values(
            customer_id=customer_id,
            source_record_id=None,
            purpose=purpose,
            channel=channel,
            status=status.value,
            lawful_basis=LAWFUL_BASIS[status.value],
            source=source,
            proof=proof,
            wording_version=wording_version,
            recorded_at=now,
        )
        .returning(Consent.id)
    ).scalar_one()
    connection.execute(
        insert(CustomerEvent).values(
            at=now,
            customer_id=customer_id,
            kind=EventKind.CONSENT_RECORDED.value,
            parameters={
                "purpose": purpose,
                "channel": channel,
                "status": status.value,
                "source": source,
                "consent_id": consent_id,
            },
        )
    )
    return int(consent_id)


def statements_of(connection: Connection, customer_id: int) -> list[dict[str, Any]]:
    """Every statement about a customer, newest first (the proof trail)."""
    rows = connection.execute(
        select(Consent)
        .where(Consent.customer_id == customer_id)
        .order_by(Consent.recorded_at.desc(), Consent.id.desc())
    ).mappings()
    return [dict(r) for r in rows]
