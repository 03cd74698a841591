"""The outbox and what planning reads: occasions, customer facts, contact history.

Planning reads in bulk into Polars frames and writes every decision in one statement; the
sender claims one message at a time with an atomic `UPDATE … WHERE status = 'planned'`, so
two senders never take the same message and a crash leaves it claimable again.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy import (
    Connection,
    bindparam,
    column,
    func,
    insert,
    select,
    table,
    text,
    update,
)

from relmark.enums import PURCHASE_STATUSES
from relmark.store.bulk import fetch_frame, insert_rows, stage
from relmark.store.kv import get_setting, put_setting
from relmark.store.models import (
    Customer,
    Message,
    MessageEvent,
    Order,
    OrderLine,
    PlanRun,
    PlaybookState,
    Product,
    StoreSetting,
)
from relmark.store.referrals import code_for
from relmark.store.types import UTCDateTime

UTC_US = pl.Datetime("us", "UTC")
LOCK_KEY = "lock:contact-budget"
SECRET_KEY = "secret:signing"
#: Statuses that count against a customer's budget: the message went or will go out.
LIVE_STATUSES = ("planned", "sending", "sent")
#: Held for a reason that passes with time: the occasion may be reconsidered next plan
#: (the cap may have room, the next scoring run may have the value the audience needs).
TRANSIENT_REASONS = (
    "cap_7d",
    "cap_30d",
    "spacing",
    "budget",
    "p_alive_not_computed",
    "clv_not_computed",
)
TRANSIENT_SQL = "(" + ", ".join(f"'{r}'" for r in TRANSIENT_REASONS) + ")"
PURCHASE_SQL = "(" + ", ".join(f"'{s}'" for s in PURCHASE_STATUSES) + ")"


def _frame(connection: Connection, statement: Any, schema: dict[str, Any]) -> pl.DataFrame:
    return fetch_frame(connection, statement, schema)


# --- settings and locks -------------------------------------------------------------------


def lock_budget(connection: Connection, now: datetime) -> None:
    """Serialise every writer of contact decisions (planners, unsubscribes) on one row.

    The UPDATE takes a row lock (PostgreSQL) or the write lock (SQLite) until commit, so
    a second planner reads the first one's messages before it decides anything.
    """
    connection.execute(
        update(StoreSetting).where(StoreSetting.key == LOCK_KEY).values(updated_at=now)
    )


def signing_secret(connection: Connection, now: datetime) -> str:
    """The store's own link-signing secret, made on first use (when none is configured)."""
    secret = get_setting(connection, SECRET_KEY)
    if secret is None:
        secret = secrets.token_urlsafe(32)
        put_setting(connection, SECRET_KEY, secret, now)
    return str(secret)


def playbook_states(connection: Connection) -> dict[str, bool]:
    rows = connection.execute(select(PlaybookState.name, PlaybookState.enabled))
    return {name: bool(enabled) for name, enabled in rows}


def set_playbook_enabled(connection: Connection, name: str, enabled: bool, now: datetime) -> None:
    connection.execute(PlaybookState.__table__.delete().where(PlaybookState.name == name))
    connection.execute(insert(PlaybookState).values(name=name, enabled=enabled, updated_at=now))


# --- facts about the candidates -------------------------------------------------------------

STAGED_IDS = "stg_plan_customers"


def stage_customers(connection: Connection, customer_ids: pl.Series) -> None:
    frame = pl.DataFrame({"customer_id": customer_ids.unique().sort()})
    stage(connection, STAGED_IDS, frame, index=["customer_id"])


def customer_facts(connection: Connection) -> pl.DataFrame:
    """Contact facts of the staged customers (merged profiles resolve to their survivor)."""
    statement = text(
        "SELECT c.id, c.first_name, c.email, c.phone, c.language, c.country, c.timezone, "
        f"c.restricted_at IS NOT NULL, c.merged_into_id FROM customers c JOIN {STAGED_IDS} s "
        "ON s.customer_id = c.id"
    )
    return _frame(
        connection,
        statement,
        {
            "customer_id": pl.Int64,
            "first_name": pl.String,
            "email": pl.String,
            "phone": pl.String,
            "language": pl.String,
            "country": pl.String,
            "timezone": pl.String,
            "restricted": pl.Boolean,
            "merged_into_id": pl.Int64,
        },
    )


def contact_history(connection: Connection, start: datetime, end: datetime) -> pl.DataFrame:
    """Live messages of the staged customers due in [start, end]: what the budget counts."""
    statement = (
        text(
            "SELECT m.customer_id, m.playbook, m.purpose, m.due_at FROM messages m "
            f"JOIN {STAGED_IDS} s ON s.customer_id = m.customer_id "
            "WHERE m.status IN ('planned', 'sending', 'sent') AND m.due_at >= :start "
            "AND m.due_at <= :end"
        )
        .bindparams(_time("start"), _time("end"))
        .columns(due_at=UTCDateTime())
    )
    return fetch_frame(
        connection,
        statement,
        {
            "customer_id": pl.Int64,
            "playbook": pl.String,
            "purpose": pl.String,
            "due_at": UTC_US,
        },
        {"start": start, "end": end},
    )


def last_rows_by_playbook(connection: Connection, since: datetime) -> pl.DataFrame:
    """(playbook, customer) → latest due time of a message since `since`, held ones
    included unless held for a passing reason (caps, spacing, budget): a score-triggered
    playbook decides about a customer once per repeat window."""
    statement = (
        text(
            "SELECT m.playbook, m.customer_id, MAX(m.due_at) AS last_due_at FROM messages m "
            f"JOIN {STAGED_IDS} s ON s.customer_id = m.customer_id WHERE m.due_at >= :since "
            f"AND (m.reason IS NULL OR m.reason NOT IN {TRANSIENT_SQL}) "
            "GROUP BY m.playbook, m.customer_id"
        )
        .bindparams(_time("since"))
        .columns(last_due_at=UTCDateTime())
    )
    return fetch_frame(
        connection,
        statement,
        {"playbook": pl.String, "customer_id": pl.Int64, "last_due_at": UTC_US},
        {"since": since},
    )


def _time(name: str) -> Any:
    return bindparam(name, type_=UTCDateTime())


def existing_keys(connection: Connection, keys: pl.Series) -> pl.DataFrame:
    """Which of `keys` the outbox already holds, and whether each was only held for a
    passing reason (then a new plan may decide it again)."""
    schema = {"idempotency_key": pl.String, "transient": pl.Boolean}
    if keys.is_empty():
        return pl.DataFrame(schema=schema)
    stage(connection, "stg_plan_keys", pl.DataFrame({"idempotency_key": keys}))
    rows = connection.execute(
        text(
            "SELECT m.idempotency_key, m.status = 'held' AND m.reason IN "
            f"{TRANSIENT_SQL} FROM messages m JOIN stg_plan_keys k "
            "ON k.idempotency_key = m.idempotency_key"
        )
    ).fetchall()
    return pl.DataFrame(rows, schema=schema, orient="row")


def categories_bought(connection: Connection) -> pl.DataFrame:
    statement = text(
        "SELECT DISTINCT o.customer_id, p.category FROM orders o "
        f"JOIN {STAGED_IDS} s ON s.customer_id = o.customer_id "
        "JOIN order_lines l ON l.order_id = o.id JOIN products p ON p.id = l.product_id "
        f"WHERE o.status IN {PURCHASE_SQL} AND p.category IS NOT NULL"
    )
    return _frame(connection, statement, {"customer_id": pl.Int64, "value": pl.String})


def partners_used(connection: Connection) -> pl.DataFrame:
    statement = text(
        "SELECT DISTINCT o.customer_id, p.external_id FROM orders o "
        f"JOIN {STAGED_IDS} s ON s.customer_id = o.customer_id "
        f"JOIN partners p ON p.id = o.partner_id WHERE o.status IN {PURCHASE_SQL}"
    )
    return _frame(connection, statement, {"customer_id": pl.Int64, "value": pl.String})


def promoters(connection: Connection, *, staged: bool = False) -> pl.Series:
    """Customers (with `staged`: staged ones) whose latest satisfaction rating is 9 or 10."""
    statement = select(MessageEvent.customer_id, MessageEvent.data).where(
        MessageEvent.kind == "rating"
    )
    if staged:
        ids = table(STAGED_IDS, column("customer_id"))
        statement = statement.join(ids, ids.c.customer_id == MessageEvent.customer_id)
    rows = connection.execute(
        statement.order_by(MessageEvent.customer_id, MessageEvent.at, MessageEvent.id)
    ).fetchall()
    latest: dict[int, int] = {}
    for customer_id, data in rows:
        latest[int(customer_id)] = int((data or {}).get("score", -1))
    return pl.Series("customer_id", [c for c, s in latest.items() if s >= 9], dtype=pl.Int64)


# --- writing decisions ----------------------------------------------------------------------


def start_plan_run(
    connection: Connection, as_of: datetime, now: datetime, scope: str | None = None
) -> int:
    return int(
        connection.execute(
            insert(PlanRun)
            .values(as_of=as_of, created_at=now, counts={}, scope=scope)
            .returning(PlanRun.id)
        ).scalar_one()
    )


def last_whole_plan(connection: Connection, before: datetime) -> datetime | None:
    """The as-of of the latest plan over the whole store before `before` (None if none):
    where the occasions missed since then start."""
    return connection.execute(
        select(func.max(PlanRun.as_of)).where(PlanRun.scope.is_(None), PlanRun.as_of < before)
    ).scalar_one_or_none()


def expire_unsent(
    connection: Connection, as_of: datetime, legacy_deadlines: dict[str, datetime]
) -> int:
    """Hold as `expired` the planned messages past their deadline (`expires_at`): planned
    before an outage, never sent, now later than the playbook allows. Rows planned before
    messages had a deadline use each playbook's due-time deadline in `legacy_deadlines`."""
    held = connection.execute(
        update(Message)
        .where(Message.status == "planned", Message.expires_at <= as_of)
        .values(status="held", reason="expired")
    ).rowcount
    for playbook, deadline in legacy_deadlines.items():
        result = connection.execute(
            update(Message)
            .where(
                Message.status == "planned",
                Message.expires_at.is_(None),
                Message.playbook == playbook,
                Message.due_at < deadline,
            )
            .values(status="held", reason="expired")
        )
        held += int(result.rowcount or 0)
    return int(held or 0)


def finish_plan_run(connection: Connection, run_id: int, counts: dict[str, Any]) -> None:
    connection.execute(update(PlanRun).where(PlanRun.id == run_id).values(counts=counts))


MESSAGE_COLUMNS = (
    "idempotency_key",
    "playbook",
    "customer_id",
    "occasion",
    "channel",
    "purpose",
    "priority",
    "status",
    "reason",
    "detail",
    "context",
    "plan_run_id",
    "created_at",
    "due_at",
    "attempts",
    "rfc_message_id",
    "expires_at",
)
JSON_COLUMNS = ("detail", "context")


def insert_messages(
    connection: Connection, frame: pl.DataFrame, held_before: pl.Series | None = None
) -> int:
    """Write planned and held messages; `detail` and `context` arrive as JSON text.

    A candidate that an earlier plan held for a passing reason keeps its row: the row is
    updated with the new decision. Every other key is new (the unique index refuses a
    second copy of any message). `held_before`: the keys the caller found in the outbox
    under the budget lock; then the new rows go straight into the outbox (no staging copy,
    no second look-up per row: a third of a 400k-row plan's write).
    """
    if frame.is_empty():
        return 0
    if "expires_at" not in frame.columns:  # no deadline (e.g. a consent confirmation)
        frame = frame.with_columns(pl.lit(None, dtype=UTC_US).alias("expires_at"))
    # a fixed order: new rows get their ids in it, so the same plan gives the same outbox
    rows = frame.select(MESSAGE_COLUMNS).sort("due_at", "idempotency_key")
    if held_before is None:
        _update_held(connection, rows)
        return _insert_absent(connection, rows)
    again = pl.col("idempotency_key").is_in(held_before.implode())
    if held_before.len():
        _update_held(connection, rows.filter(again))
    fresh = rows.filter(~again)
    if fresh.height:
        insert_rows(connection, Message.__table__, fresh)
    return fresh.height


def _json(connection: Connection, column: str, value: str) -> str:
    if column in JSON_COLUMNS and connection.dialect.name == "postgresql":
        return f"CAST({value} AS JSONB)"
    return value


def _update_held(connection: Connection, rows: pl.DataFrame) -> None:
    if rows.is_empty():
        return
    stage(connection, "stg_messages", rows, Message.__table__)
    changes = ", ".join(
        f"{c} = " + _json(connection, c, f"s.{c}")
        for c in ("status", "reason", "detail", "plan_run_id", "due_at", "priority", "expires_at")
    )
    connection.execute(
        text(
            f"UPDATE messages SET {changes} FROM stg_messages s "
            "WHERE messages.idempotency_key = s.idempotency_key"
        )
    )


def _insert_absent(connection: Connection, rows: pl.DataFrame) -> int:
    """Insert the staged rows whose key the outbox does not hold yet."""
    values = ", ".join(_json(connection, c, f"s.{c}") for c in MESSAGE_COLUMNS)
    result = connection.execute(
        text(
            f"INSERT INTO messages ({', '.join(MESSAGE_COLUMNS)}) SELECT {values} "
            "FROM stg_messages s WHERE NOT EXISTS (SELECT 1 FROM messages m "
            "WHERE m.idempotency_key = s.idempotency_key)"
        )
    )
    return int(result.rowcount or 0)


# --- delivery -------------------------------------------------------------------------------


def reclaim_stale(connection: Connection, older_than: datetime) -> int:
    """Messages a crashed sender left in 'sending' go back to 'planned' (same Message-ID)."""
    result = connection.execute(
        update(Message)
        .where(Message.status == "sending", Message.sent_at <= older_than)
        .values(status="planned", sent_at=None)
    )
    return int(result.rowcount or 0)


def claim(connection: Connection, message_id: int, now: datetime) -> bool:
    """Take a planned message for sending; False when someone else (or an unsubscribe) got
    there first. `sent_at` holds the claim time until the send succeeds."""
    result = connection.execute(
        update(Message)
        .where(Message.id == message_id, Message.status == "planned")
        .values(status="sending", attempts=Message.attempts + 1, sent_at=now)
    )
    return result.rowcount == 1


def mark_sent(connection: Connection, message_id: int, now: datetime) -> None:
    connection.execute(
        update(Message)
        .where(Message.id == message_id)
        .values(status="sent", sent_at=now, last_error=None, reason=None)  # no stale "deferred"
    )


def mark_retry(connection: Connection, message_id: int, error: str, next_at: datetime) -> None:
    connection.execute(
        update(Message)
        .where(Message.id == message_id)
        .values(status="planned", next_attempt_at=next_at, sent_at=None, last_error=error[:2000])
    )


def mark_failed(connection: Connection, message_id: int, error: str) -> None:
    connection.execute(
        update(Message)
        .where(Message.id == message_id)
        .values(status="failed", sent_at=None, last_error=error[:2000])
    )


def message_row(connection: Connection, message_id: int) -> dict[str, Any] | None:
    row = connection.execute(select(Message).where(Message.id == message_id)).mappings().first()
    return dict(row) if row else None


def render_facts(connection: Connection, message: dict[str, Any]) -> dict[str, Any]:
    """What a template may say about the customer, the order and the product."""
    customer = (
        connection.execute(select(Customer).where(Customer.id == message["customer_id"]))
        .mappings()
        .one()
    )
    facts: dict[str, Any] = {"customer": dict(customer)}
    context = message.get("context") or {}
    if context.get("order_id"):
        order = (
            connection.execute(select(Order).where(Order.id == context["order_id"]))
            .mappings()
            .one()
        )
        products = connection.execute(
            select(func.coalesce(Product.name, OrderLine.sku))
            .select_from(OrderLine)
            .outerjoin(Product, Product.id == OrderLine.product_id)
            .where(OrderLine.order_id == order["id"])
            .order_by(OrderLine.line_no)
        ).scalars()
        facts["order"] = {**dict(order), "products": list(products)}
    if context.get("product_id"):
        product = (
            connection.execute(select(Product).where(Product.id == context["product_id"]))
            .mappings()
            .one()
        )
        facts["product"] = dict(product)
    if customer["restricted_at"] is None and customer["erased_at"] is None:
        # the personal `?ref=` link: the stored code, made the first time a message needs it
        facts["referral_code"] = code_for(connection, int(customer["id"]), datetime.now(UTC))
    return facts


def record_message_event(
    connection: Connection,
    *,
    message_id: int,
    customer_id: int,
    kind: str,
    data: dict[str, Any] | None,
    now: datetime,
) -> None:
    connection.execute(
        insert(MessageEvent).values(
            message_id=message_id, customer_id=customer_id, at=now, kind=kind, data=data
        )
    )


def hold_claimed(connection: Connection, message_id: int, reason: str) -> None:
    """A claimed message the sender found it must not send after all (e.g. its order was
    cancelled after the message was planned)."""
    connection.execute(
        update(Message).where(Message.id == message_id).values(status="held", reason=reason)
    )


def hold_unsent(
    connection: Connection, customer_id: int, purpose: str, channel: str, reason: str
) -> int:
    """Every not-yet-sent message of this customer and purpose is held, in one statement."""
    result = connection.execute(
        update(Message)
        .where(
            Message.customer_id == customer_id,
            Message.purpose == purpose,
            Message.channel.in_(_channels_for(channel)),
            Message.status == "planned",
        )
        .values(status="held", reason=reason)
    )
    return int(result.rowcount or 0)


def _channels_for(consent_channel: str) -> tuple[str, ...]:
    """The outbox channels a consent channel covers (webhooks carry SMS and the like)."""
    return ("email",) if consent_channel == "email" else ("webhook",)


def messages_of(
    connection: Connection, customer_id: int, playbook: str | None = None
) -> list[dict[str, Any]]:
    statement = select(Message).where(Message.customer_id == customer_id)
    if playbook:
        statement = statement.where(Message.playbook == playbook)
    rows = connection.execute(statement.order_by(Message.due_at.desc(), Message.id.desc()))
    return [dict(r) for r in rows.mappings()]


def outbox_counts(connection: Connection) -> list[dict[str, Any]]:
    rows = connection.execute(
        select(Message.playbook, Message.status, Message.reason, func.count())
        .group_by(Message.playbook, Message.status, Message.reason)
        .order_by(Message.playbook, Message.status, Message.reason)
    )
    return [{"playbook": p, "status": s, "reason": r, "count": int(n)} for p, s, r, n in rows]


def window(as_of: datetime, days: int) -> tuple[datetime, datetime]:
    return as_of - timedelta(days=days), as_of + timedelta(days=days)


def uplift_inputs(
    connection: Connection, playbook: str | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Treated (sent) and control (held out) messages, and the completed orders of their
    customers placed after the earliest of them."""
    group = "CASE WHEN m.status = 'sent' THEN 'treated' ELSE 'control' END"
    where = "(m.status = 'sent' OR (m.status = 'held' AND m.reason = 'control_group'))"
    params: dict[str, Any] = {}
    if playbook:
        where += " AND m.playbook = :playbook"
        params["playbook"] = playbook
    messages = text(
        f"SELECT m.id, m.playbook, {group}, m.customer_id, m.due_at FROM messages m WHERE {where}"
    ).columns(due_at=UTCDateTime())
    message_rows = connection.execute(messages, params).fetchall()
    frame = pl.DataFrame(
        message_rows,
        schema={
            "message_id": pl.Int64,
            "playbook": pl.String,
            "group": pl.String,
            "customer_id": pl.Int64,
            "due_at": UTC_US,
        },
        orient="row",
    )
    orders = text(
        "SELECT o.customer_id, o.ordered_at, o.amount_minor, o.currency FROM orders o "
        "WHERE o.status = 'completed' AND o.customer_id IN "
        f"(SELECT m.customer_id FROM messages m WHERE {where}) "
        f"AND o.ordered_at > (SELECT MIN(m.due_at) FROM messages m WHERE {where})"
    ).columns(ordered_at=UTCDateTime())
    order_rows = connection.execute(orders, params).fetchall()
    return frame, pl.DataFrame(
        order_rows,
        schema={
            "customer_id": pl.Int64,
            "ordered_at": UTC_US,
            "amount_minor": pl.Int64,
            "currency": pl.String,
        },
        orient="row",
    )
