"""What the sender reads besides claiming: due messages with the customer's timezone, the
messages waiting for quiet hours, a planned message to use as a sample. Reads only: a dry run
or a test send goes through here and changes nothing in the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from relmark.store.models import Customer, Message


def due_messages(
    connection: Connection, now: datetime, limit: int, after: tuple[datetime, int] | None = None
) -> list[dict[str, Any]]:
    """Planned messages due by `now` (retries only once their wait is over), in due order,
    the page after the (due_at, id) `after`; each with its customer's timezone, so quiet
    hours can be judged per customer without a second query."""
    statement = (
        select(Message.id, Message.due_at, Message.playbook, Customer.timezone)
        .join(Customer, Customer.id == Message.customer_id)
        .where(
            Message.status == "planned",
            Message.due_at <= now,
            or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now),
        )
        .order_by(Message.due_at, Message.id)
        .limit(limit)
    )
    if after is not None:
        due_at, message_id = after
        statement = statement.where(
            or_(Message.due_at > due_at, and_(Message.due_at == due_at, Message.id > message_id))
        )
    return [dict(r) for r in connection.execute(statement).mappings()]


def deferred_for_quiet_hours(connection: Connection, now: datetime) -> tuple[int, datetime | None]:
    """Planned messages the planner moved to the end of quiet hours and not due yet: how
    many, and the earliest due time among them."""
    count, earliest = connection.execute(
        select(func.count(), func.min(Message.due_at)).where(
            Message.status == "planned",
            Message.reason == "quiet_hours_deferred",
            Message.due_at > now,
        )
    ).one()
    return int(count), earliest


def sample_message(connection: Connection, playbook: str) -> dict[str, Any] | None:
    """A planned message of the playbook to render as a sample (the earliest due), if any."""
    row = (
        connection.execute(
            select(Message)
            .where(Message.playbook == playbook, Message.status == "planned")
            .order_by(Message.due_at, Message.id)
            .limit(1)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None
