"""Kind-specific loads: how validated frames become source records, customers, orders…

Each function runs inside the caller's transaction and never commits, so an import is all or
nothing. Only columns present in the file are written: a file with `customer_id,email`
updates emails and leaves names alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import Connection, TextClause, bindparam, insert, text, update

from relmark.enums import ConsentPurpose, ConsentStatus, EventKind
from relmark.store import consents, rectification, suppression
from relmark.store.bulk import (
    action_counts,
    apply_inserts,
    apply_updates,
    classify,
    foreign_keys_checked_once,
    holds_any,
    index_stage,
    mark_all_inserts,
    stage,
)
from relmark.store.dialects import dialect_of
from relmark.store.models import (
    PROFILE_COLUMNS,
    ImportRun,
    Order,
    Partner,
    Product,
    SourceRecord,
)
from relmark.store.types import UTCDateTime

NOW = {"now": UTCDateTime()}


def _timed(sql: str) -> TextClause:
    """A statement whose `:now` parameter is an aware timestamp, stored the store's way."""
    return text(sql).bindparams(bindparam("now", type_=UTCDateTime()))


def _counts(actions: dict[str, int]) -> dict[str, int]:
    return {
        "inserted": actions["insert"],
        "updated": actions["update"],
        "unchanged": actions["same"],
    }


def start_import(
    connection: Connection,
    *,
    kind: str,
    source: str,
    file_name: str,
    file_sha256: str | None,
    file_format: str,
    now: datetime,
) -> int:
    statement = (
        insert(ImportRun)
        .values(
            kind=kind,
            source=source,
            file_name=file_name,
            file_sha256=file_sha256,
            file_format=file_format,
            started_at=now,
        )
        .returning(ImportRun.id)
    )
    return int(connection.execute(statement).scalar_one())


def finish_import(
    connection: Connection, import_id: int, counts: dict[str, Any], now: datetime
) -> None:
    connection.execute(
        update(ImportRun).where(ImportRun.id == import_id).values(finished_at=now, counts=counts)
    )


def load_customers(
    connection: Connection,
    frame: pl.DataFrame,
    *,
    source: str,
    import_id: int,
    where: str,
    now: datetime,
) -> dict[str, int]:
    """Upsert source records by (source, external_id); new records get a customer each."""
    frame = frame.rename({"customer_id": "external_id"}).with_columns(source=pl.lit(source))
    values = [c for c in PROFILE_COLUMNS if c in frame.columns]
    stage(connection, "stg_customers", frame, SourceRecord.__table__)  # type: ignore[arg-type]
    classify(connection, "stg_customers", "source_records", ["source", "external_id"], values)
    apply_updates(
        connection,
        "stg_customers",
        "source_records",
        values,
        # match keys are recomputed by identity resolution for changed records
        extra={
            "updated_at": ":now",
            "email_key": "NULL",
            "phone_key": "NULL",
            "key_problems": "NULL",
        },
        params={"now": now},
        types=NOW,
    )
    apply_inserts(
        connection,
        "stg_customers",
        "source_records",
        ["source", "external_id", *values],
        extra={"imported_at": ":now", "updated_at": ":now"},
        params={"now": now},
        types=NOW,
    )
    profile = ", ".join(f'"{c}"' for c in PROFILE_COLUMNS)
    connection.execute(
        _timed(
            f"INSERT INTO customers (first_record_id, created_at, updated_at, {profile}) "
            f"SELECT sr.id, :now, :now, {', '.join('sr.' + c for c in PROFILE_COLUMNS)} "
            "FROM source_records sr WHERE sr.customer_id IS NULL ORDER BY sr.id"
        ),
        {"now": now},
    )
    connection.execute(
        text(
            "UPDATE source_records SET customer_id = c.id FROM customers c "
            "WHERE c.first_record_id = source_records.id AND source_records.customer_id IS NULL"
        )
    )
    if values:
        # Survivorship for now: the most recently imported record wins for the fields it has.
        sets = ", ".join(f'"{c}" = sr."{c}"' for c in values)
        connection.execute(
            _timed(
                f"UPDATE customers SET {sets}, updated_at = :now FROM source_records sr, "
                "stg_customers s WHERE s._action = 'update' AND sr.id = s._target_id "
                "AND customers.id = sr.customer_id"
            ),
            {"now": now},
        )
        # …except a value the customer had corrected: it stays until corrected again
        rectification.reapply(connection)
    actions = action_counts(connection, "stg_customers")
    dialect = dialect_of(connection)
    parameters = dialect.json_object(
        {"source": "sr.source", "external_id": "sr.external_id", "line": "s.__line"}
    )
    with foreign_keys_checked_once(
        connection, "customer_events", rows=actions["insert"] + actions["update"]
    ):
        connection.execute(
            _timed(
                "INSERT INTO customer_events (at, customer_id, kind, import_id, parameters) "
                f"SELECT :now, sr.customer_id, CASE s._action WHEN 'insert' THEN "
                f"'{EventKind.CUSTOMER_CREATED}' ELSE '{EventKind.CUSTOMER_UPDATED}' END, "
                f":import_id, {parameters} FROM stg_customers s JOIN source_records sr "
                "ON sr.source = s.source AND sr.external_id = s.external_id "
                "WHERE s._action IN ('insert', 'update') ORDER BY s.__line"
            ),
            {"now": now, "import_id": import_id},
        )
    counts = _counts(actions)
    if restricted := suppression.restrict_new_from_import(
        connection, "stg_customers", now, import_id=import_id
    ):
        counts["restricted_as_erased"] = restricted
    if "email_consent" in frame.columns:
        counts["consents_recorded"] = _record_email_consents(
            connection, import_id=import_id, where=where, now=now
        )
    return counts


def _record_email_consents(
    connection: Connection, *, import_id: int, where: str, now: datetime
) -> int:
    """Add a consent statement where the file's answer differs from the record's latest.

    A "no" is `not_granted`, unless the record said yes before: then the person withdrew
    at the source. With double opt-in on, a new "yes" is `pending` until the customer
    confirms it (the planner queues the confirmation). The statement's time is the
    file's `email_consent_at` when it has one."""
    purpose, channel = ConsentPurpose.MARKETING.value, "email"
    previous = (
        "(SELECT c.status FROM consents c WHERE c.source_record_id = sr.id "
        f"AND c.purpose = '{purpose}' AND c.channel = '{channel}' "
        "ORDER BY c.recorded_at DESC, c.id DESC LIMIT 1)"
    )
    dated = _has_column(connection, "stg_customers", "email_consent_at")
    at = ", s.email_consent_at AS stated_at" if dated else ""
    answers = (
        "(SELECT s.__line AS line, s.source AS source, sr.id AS record_id, "
        f"sr.customer_id AS customer_id, s.email_consent AS answer{at}, "
        f"{previous} AS previous FROM stg_customers s JOIN source_records sr "
        "ON sr.source = s.source AND sr.external_id = s.external_id "
        "WHERE s.email_consent IS NOT NULL) a"
    )
    granted, withdrawn = ConsentStatus.GRANTED.value, ConsentStatus.WITHDRAWN.value
    pending, not_granted = ConsentStatus.PENDING.value, ConsentStatus.NOT_GRANTED.value
    confirm = "1 = 1" if consents.double_opt_in(connection) else "1 = 0"
    status = (
        f"(CASE WHEN a.answer = '{not_granted}' AND a.previous IN ('{granted}', '{withdrawn}') "
        f"THEN '{withdrawn}' WHEN a.answer = '{granted}' AND {confirm} "
        f"AND (a.previous IS NULL OR a.previous <> '{granted}') THEN '{pending}' "
        "ELSE a.answer END)"
    )
    changed = f"FROM {answers} WHERE {status} IS DISTINCT FROM a.previous"
    dialect = dialect_of(connection)
    parameters = dialect.json_object(
        {"purpose": f"'{purpose}'", "channel": f"'{channel}'", "status": status, "line": "a.line"}
    )
    connection.execute(
        _timed(
            "INSERT INTO customer_events (at, customer_id, kind, import_id, parameters) "
            f"SELECT :now, a.customer_id, '{EventKind.CONSENT_RECORDED}', :import_id, "
            f"{parameters} {changed} ORDER BY a.line"
        ),
        {"now": now, "import_id": import_id},
    )
    result = connection.execute(
        _timed(
            "INSERT INTO consents (customer_id, source_record_id, purpose, channel, status, "
            "lawful_basis, source, proof, recorded_at) "
            f"SELECT a.customer_id, a.record_id, '{purpose}', '{channel}', {status}, "
            f"{consents.lawful_basis_sql(status)}, a.source, :proof || CAST(a.line AS TEXT), "
            f"{'COALESCE(a.stated_at, :now)' if dated else ':now'} {changed} ORDER BY a.line"
        ),
        {"now": now, "proof": f"imported from {where}:"},
    )
    return int(result.rowcount or 0)


def _has_column(connection: Connection, table: str, column: str) -> bool:
    result = connection.execute(text(f'SELECT * FROM "{table}" WHERE 1 = 0'))
    return column in list(result.keys())  # a Result itself iterates rows, not columns


def customer_keys(connection: Connection, source: str) -> pl.DataFrame:
    """(external_id, source_record_id, customer_id) of every record of `source`."""
    rows = connection.execute(
        text("SELECT external_id, id, customer_id FROM source_records WHERE source = :s"),
        {"s": source},
    ).fetchall()
    return pl.DataFrame(
        rows,
        schema={"customer_id": pl.String, "source_record_id": pl.Int64, "customer_pk": pl.Int64},
        orient="row",
    )


def key_map(connection: Connection, table: str, key: str) -> pl.DataFrame:
    """(key, id) pairs of a small reference table such as products or partners."""
    rows = connection.execute(text(f'SELECT "{key}", id FROM "{table}"')).fetchall()
    return pl.DataFrame(rows, schema={key: pl.String, "id": pl.Int64}, orient="row")


ORDER_VALUES = (
    "customer_id",
    "source_record_id",
    "ordered_at",
    "currency",
    "amount_minor",
    "discount_minor",
    "cost_minor",
    "quantity",
    "status",
    "channel",
    "partner_id",
)
LINE_VALUES = ("line_no", "product_id", "sku", "quantity", "unit_price_minor")


def load_orders(
    connection: Connection, orders: pl.DataFrame, lines: pl.DataFrame | None, *, source: str
) -> dict[str, int]:
    """Upsert orders by (source, external_id); an order whose lines changed counts as updated."""
    orders = orders.with_columns(source=pl.lit(source))
    values = [c for c in ORDER_VALUES if c in orders.columns]
    stage(
        connection,
        "stg_orders",
        orders,
        Order.__table__,  # type: ignore[arg-type]
    )
    # A source's first import has nothing to compare with: every order is new.
    fresh = not holds_any(connection, "orders", {"source": source})
    if fresh:
        actions = mark_all_inserts(connection, "stg_orders")
    else:
        classify(connection, "stg_orders", "orders", ["source", "external_id"], values)
    if lines is not None:
        index_stage(connection, "stg_orders", ["external_id"])
        stage(connection, "stg_lines", lines, index=["order_external_id"])
        if not fresh:
            _mark_orders_with_changed_lines(connection)
    columns = ["source", "external_id", *values]
    if fresh:
        apply_inserts(
            connection, "stg_orders", "orders", columns, rows=actions["insert"], as_staged=True
        )
        counts = _counts(actions)
    else:
        apply_updates(connection, "stg_orders", "orders", values)
        apply_inserts(connection, "stg_orders", "orders", columns)
        counts = _counts(action_counts(connection, "stg_orders"))
    if lines is not None:
        connection.execute(
            text(
                "DELETE FROM order_lines WHERE order_id IN "
                "(SELECT _target_id FROM stg_orders WHERE _action = 'update')"
            )
        )
        with foreign_keys_checked_once(connection, "order_lines", rows=lines.height):
            result = connection.execute(
                text(
                    f"INSERT INTO order_lines (order_id, {', '.join(LINE_VALUES)}) "
                    f"SELECT o.id, {', '.join('l.' + c for c in LINE_VALUES)} FROM stg_lines l "
                    "JOIN stg_orders s ON s.external_id = l.order_external_id "
                    "JOIN orders o ON o.source = s.source AND o.external_id = s.external_id "
                    "WHERE s._action IN ('insert', 'update')"
                )
            )
        counts["lines_written"] = int(result.rowcount or 0)
    return counts


def _mark_orders_with_changed_lines(connection: Connection) -> None:
    """An order whose lines differ from the stored ones (either way) is an update."""
    staged = ", ".join(f"l.{c}" for c in LINE_VALUES)
    stored = ", ".join(f"ol.{c}" for c in LINE_VALUES)
    mine = "FROM stg_lines l WHERE l.order_external_id = stg_orders.external_id"
    theirs = "FROM order_lines ol WHERE ol.order_id = stg_orders._target_id"
    connection.execute(
        text(
            "UPDATE stg_orders SET _action = 'update' WHERE _action = 'same' AND ("
            f"EXISTS (SELECT {staged} {mine} EXCEPT SELECT {stored} {theirs}) OR "
            f"EXISTS (SELECT {stored} {theirs} EXCEPT SELECT {staged} {mine}))"
        )
    )


def load_products(
    connection: Connection, frame: pl.DataFrame, *, only_new: bool = False
) -> dict[str, int]:
    """Upsert products by sku (`only_new`: add unknown skus, leave known ones alone)."""
    values = [
        c
        for c in (
            "name",
            "category",
            "currency",
            "price_minor",
            "unit_cost_minor",
            "margin_rate",
            "howto_url",
        )
        if c in frame.columns
    ]
    stage(connection, "stg_products", frame, Product.__table__)  # type: ignore[arg-type]
    classify(connection, "stg_products", "products", ["sku"], [] if only_new else values)
    apply_updates(connection, "stg_products", "products", values)
    apply_inserts(connection, "stg_products", "products", ["sku", *values])
    return _counts(action_counts(connection, "stg_products"))


def load_partners(connection: Connection, frame: pl.DataFrame) -> dict[str, int]:
    frame = frame.rename({"partner_id": "external_id"})
    values = ["name", "kind"]
    stage(connection, "stg_partners", frame, Partner.__table__)  # type: ignore[arg-type]
    classify(connection, "stg_partners", "partners", ["external_id"], values)
    apply_updates(connection, "stg_partners", "partners", values)
    apply_inserts(connection, "stg_partners", "partners", ["external_id", *values])
    return _counts(action_counts(connection, "stg_partners"))
