"""Restriction of processing (GDPR art. 18): set or lift it, and read it back.

While a customer is restricted relmark only stores their data: no scoring or profiling, no
message of any purpose, no transfer to other systems. Setting or lifting it is one
transaction that holds every unsent message, writes a customer event (with the reason, so
staff see why) and an audit entry (ids and flags only, never the reason's words).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, text, update

from relmark.enums import EventKind
from relmark.store import audit
from relmark.store.models import Customer, CustomerEvent, Message
from relmark.store.types import UTCDateTime

#: Outbox statuses that have not left relmark yet: a restriction holds them all.
UNSENT = ("planned",)
REASON_MAX = 500


def set_restriction(
    connection: Connection,
    customer_id: int,
    restricted: bool,
    now: datetime,
    *,
    actor: audit.Actor,
    reason: str | None = None,
) -> dict[str, Any]:
    """Restrict (or lift) one live customer; returns the new state and messages held.

    Restricting an already restricted customer keeps the original time; the act is still
    recorded in the audit trail (someone asked), but only a change writes an event."""
    current = connection.execute(
        select(Customer.restricted_at).where(Customer.id == customer_id)
    ).scalar_one()
    reason = (reason or "").strip()[:REASON_MAX] or None
    changed = (current is None) == restricted
    since = (current or now) if restricted else None
    held = 0
    if changed:
        connection.execute(
            update(Customer).where(Customer.id == customer_id).values(restricted_at=since)
        )
        kind = EventKind.PROCESSING_RESTRICTED if restricted else EventKind.RESTRICTION_LIFTED
        connection.execute(
            insert(CustomerEvent).values(
                at=now,
                customer_id=customer_id,
                kind=kind.value,
                parameters={"reason": reason, "by": f"{actor.kind}:{actor.name}"},
            )
        )
    if restricted:
        held = hold_unsent(connection, customer_id)
    audit.record(
        connection,
        actor,
        "customer.restrict" if restricted else "customer.restrict_lift",
        customer_id=customer_id,
        detail={"changed": changed, "messages_held": held, "reason_given": reason is not None},
        at=now,
    )
    return {
        "customer_id": customer_id,
        "restricted": restricted,
        "restricted_at": since,
        "reason": reason if restricted else None,
        "messages_held": held,
    }


def hold_unsent(connection: Connection, customer_id: int) -> int:
    """Every unsent message of the customer, whatever its purpose, is held as restricted:
    art. 18 allows storage only, and order mail comes from the shop's own system."""
    result = connection.execute(
        update(Message)
        .where(Message.customer_id == customer_id, Message.status.in_(UNSENT))
        .values(status="held", reason="restricted")
    )
    return int(result.rowcount or 0)


def carry_over_merges(connection: Connection, staged_map: str, now: datetime) -> int:
    """A restriction survives identity resolution: a survivor that absorbs a restricted
    profile becomes restricted (since the earliest time), and every restricted survivor's
    planned messages (the absorbed profile's moved to it) are held. `staged_map` has
    (absorbed_id, survivor_id), and the messages have moved. Returns how many survivors
    inherited a restriction."""
    pairs = connection.execute(
        text(
            "SELECT m.survivor_id, m.absorbed_id, a.restricted_at FROM "
            f'"{staged_map}" m JOIN customers a ON a.id = m.absorbed_id '
            "JOIN customers s ON s.id = m.survivor_id "
            "WHERE a.restricted_at IS NOT NULL AND s.restricted_at IS NULL"
        ).columns(restricted_at=UTCDateTime())
    ).fetchall()
    earliest: dict[int, tuple[datetime, int]] = {}
    for survivor, absorbed, since in pairs:
        if survivor not in earliest or since < earliest[survivor][0]:
            earliest[survivor] = (since, absorbed)
    for survivor, (since, absorbed) in earliest.items():
        connection.execute(
            update(Customer).where(Customer.id == survivor).values(restricted_at=since)
        )
        connection.execute(
            insert(CustomerEvent).values(
                at=now,
                customer_id=survivor,
                kind=EventKind.PROCESSING_RESTRICTED.value,
                parameters={"reason": None, "by": "merge", "from_customer": absorbed},
            )
        )
    connection.execute(
        text(
            "UPDATE messages SET status = 'held', reason = 'restricted' "
            "WHERE status = 'planned' AND customer_id IN (SELECT c.id FROM customers c "
            f'JOIN "{staged_map}" m ON m.survivor_id = c.id WHERE c.restricted_at IS NOT NULL)'
        )
    )
    return len(earliest)


def hold_claimed(connection: Connection, message_id: int) -> None:
    """A message the sender claimed for a customer restricted since it was planned (a
    profile restricted outside `set_restriction`, e.g. a suppressed re-import)."""
    connection.execute(
        update(Message)
        .where(Message.id == message_id)
        .values(status="held", reason="restricted", sent_at=None)
    )


def restriction_of(connection: Connection, customer_id: int) -> dict[str, Any]:
    """`restricted`, `restricted_at` and the reason given when it was set (from the event
    log; a profile created restricted by another part of relmark may have none)."""
    since = connection.execute(
        select(Customer.restricted_at).where(Customer.id == customer_id)
    ).scalar_one_or_none()
    reason = None
    if since is not None:
        parameters = connection.execute(
            select(CustomerEvent.parameters)
            .where(
                CustomerEvent.customer_id == customer_id,
                CustomerEvent.kind == EventKind.PROCESSING_RESTRICTED.value,
            )
            .order_by(CustomerEvent.at.desc(), CustomerEvent.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        reason = (parameters or {}).get("reason")
    return {"restricted": since is not None, "restricted_at": since, "reason": reason}


def restricted_ids_sql() -> str:
    """A subquery of restricted customers' ids, for the readers that must leave them out."""
    return "SELECT id FROM customers WHERE restricted_at IS NOT NULL"
