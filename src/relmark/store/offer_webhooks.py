"""The offer events queue (`offer_webhooks`): fill it from the offers' state, claim one
event at a time, record the outcome. Each step is its own short transaction, so a sender
killed anywhere loses nothing: an event is marked delivered only after the shop said 2xx,
and an event left `sending` by a dead sender is claimed again after `reclaim_after`.

Events are derived from the offers rather than written by whoever changes an offer: the
queue cannot miss a change made by any path (send, redeem, expiry job, a void), and the
unique (offer, event) pair makes filling it twice harmless, even from two processes at once.
Events start from the moment the webhook was first configured (kept as a store setting):
the shop learns every open code then, and everything issued or closed afterwards; older
closed offers are in `relmark offers export`, not worth a flood of events.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, exists, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased

from relmark.store import kv, transfer
from relmark.store.live import live_profile
from relmark.store.models import Customer, SourceRecord
from relmark.store.offer_models import Offer
from relmark.store.offer_webhook_models import OfferWebhook

SINCE_KEY = "offers_webhook:since"
ISSUED = "offer.issued"
CLOSING = {"redeemed": "offer.redeemed", "expired": "offer.expired", "void": "offer.voided"}
EVENTS = (ISSUED, *CLOSING.values())
HOOKS = OfferWebhook.__table__


def _insert(connection: Connection) -> Any:
    return (pg_insert if connection.dialect.name == "postgresql" else sqlite_insert)(HOOKS)


def enqueue(connection: Connection, now: datetime) -> int:
    """Queue every event not queued yet (set-based); returns how many were added. A closed
    offer's event follows its issued event, never comes without one."""
    since = kv.get_setting(connection, SINCE_KEY)
    if since is None:
        since = now.isoformat()
        kv.put_setting(connection, SINCE_KEY, since, now)
    start = datetime.fromisoformat(since)
    queued = aliased(OfferWebhook)
    issued = (
        select(
            Offer.id,
            literal(ISSUED),
            literal("pending"),
            literal(0),
            literal(now, OfferWebhook.created_at.type),
            literal(now, OfferWebhook.next_attempt_at.type),
        )
        .where(
            Offer.issued_at.is_not(None),
            Offer.status != "reserved",
            or_(Offer.status == "issued", Offer.issued_at >= start),
            ~exists().where(queued.offer_id == Offer.id, queued.event == ISSUED),
        )
        .order_by(Offer.id)
    )
    columns = ["offer_id", "event", "status", "attempts", "created_at", "next_attempt_at"]
    added = _add(connection, columns, issued)
    for status, event in CLOSING.items():
        closed = (
            select(
                Offer.id,
                literal(event),
                literal("pending"),
                literal(0),
                literal(now, OfferWebhook.created_at.type),
                literal(now, OfferWebhook.next_attempt_at.type),
            )
            .where(
                Offer.status == status,
                exists().where(queued.offer_id == Offer.id, queued.event == ISSUED),
                ~exists().where(queued.offer_id == Offer.id, queued.event == event),
            )
            .order_by(Offer.id)
        )
        added += _add(connection, columns, closed)
    return added


def _add(connection: Connection, columns: list[str], rows: Any) -> int:
    """INSERT … SELECT that skips rows another process queued meanwhile; how many it added."""
    statement = _insert(connection).from_select(columns, rows).on_conflict_do_nothing()
    return len(connection.execute(statement.returning(HOOKS.c.id)).all())


def due(connection: Connection, now: datetime, reclaim_after: timedelta, limit: int) -> list[int]:
    """Ids of events to try now, oldest first: pending ones whose wait is over and ones a
    dead sender left `sending`; an offer's later event waits until its earlier ones are
    done (the shop never hears of a redemption before the issue)."""
    earlier = aliased(OfferWebhook)
    statement = (
        select(OfferWebhook.id)
        .where(
            or_(
                and_(OfferWebhook.status == "pending", OfferWebhook.next_attempt_at <= now),
                and_(
                    OfferWebhook.status == "sending",
                    OfferWebhook.claimed_at <= now - reclaim_after,
                ),
            ),
            ~exists().where(
                earlier.offer_id == OfferWebhook.offer_id,
                earlier.id < OfferWebhook.id,
                earlier.status.in_(("pending", "sending")),
            ),
        )
        .order_by(OfferWebhook.id)
        .limit(limit)
    )
    return list(connection.execute(statement).scalars())


def claim(connection: Connection, event_id: int, now: datetime, reclaim_after: timedelta) -> bool:
    """Take one event for sending; False when another sender took it first (the
    conditional update is the lock: exactly one of two racing senders changes the row)."""
    result = connection.execute(
        update(OfferWebhook)
        .where(
            OfferWebhook.id == event_id,
            or_(
                and_(OfferWebhook.status == "pending", OfferWebhook.next_attempt_at <= now),
                and_(
                    OfferWebhook.status == "sending",
                    OfferWebhook.claimed_at <= now - reclaim_after,
                ),
            ),
        )
        .values(status="sending", claimed_at=now, attempts=OfferWebhook.attempts + 1)
    )
    return result.rowcount == 1


def event_data(connection: Connection, event_id: int) -> dict[str, Any]:
    """What the payload is built from: the event, its offer, and the live customer's
    external ids (none for a restricted customer: no transfer names them)."""
    row = (
        connection.execute(
            select(
                OfferWebhook.id,
                OfferWebhook.event,
                OfferWebhook.attempts,
                Offer.code,
                Offer.kind,
                Offer.status,
                Offer.percent_off,
                Offer.amount_minor,
                Offer.currency,
                Offer.gift,
                Offer.min_order_minor,
                Offer.max_uses,
                Offer.uses,
                Offer.issued_at,
                Offer.expires_at,
                Offer.closed_at,
                Offer.customer_id,
            )
            .join(Offer, Offer.id == OfferWebhook.offer_id)
            .where(OfferWebhook.id == event_id)
        )
        .mappings()
        .one()
    )
    data = dict(row)
    data["customer_id"] = live_profile(connection, row["customer_id"]) or row["customer_id"]
    live = connection.execute(
        select(Customer.restricted_at).where(Customer.id == data["customer_id"])
    ).scalar_one()
    data["restricted"] = live is not None
    data["external_ids"] = [] if live is not None else _external_ids(connection, data)
    return data


def _external_ids(connection: Connection, data: dict[str, Any]) -> list[dict[str, str]]:
    """The customer's ids in other systems; one that is an e-mail or phone number only with
    consent to third-party sharing (the transfer rule)."""
    rows = connection.execute(
        select(SourceRecord.source, SourceRecord.external_id)
        .where(SourceRecord.customer_id == data["customer_id"])
        .order_by(SourceRecord.source, SourceRecord.external_id)
    ).all()
    personal = [bool(transfer.PERSONAL_ID.search(external)) for _, external in rows]
    shares = any(personal) and transfer.may_share(connection, data["customer_id"])
    return [
        {"source": source, "external_id": external}
        for (source, external), private in zip(rows, personal, strict=True)
        if shares or not private
    ]


def delivered(connection: Connection, event_id: int, now: datetime) -> None:
    connection.execute(
        update(OfferWebhook)
        .where(OfferWebhook.id == event_id)
        .values(status="delivered", delivered_at=now, last_error=None)
    )


def retry_later(
    connection: Connection, event_id: int, at: datetime, error: str, give_up: bool
) -> None:
    """A failed attempt: wait until `at`, or stop trying (`failed`, kept and counted)."""
    connection.execute(
        update(OfferWebhook)
        .where(OfferWebhook.id == event_id)
        .values(
            status="failed" if give_up else "pending",
            next_attempt_at=at,
            claimed_at=None,
            last_error=error[:2000],
        )
    )


def counts(connection: Connection) -> list[dict[str, Any]]:
    rows = connection.execute(
        select(OfferWebhook.event, OfferWebhook.status, func.count())
        .group_by(OfferWebhook.event, OfferWebhook.status)
        .order_by(OfferWebhook.event, OfferWebhook.status)
    )
    return [{"event": e, "status": s, "count": int(n)} for e, s, n in rows]
