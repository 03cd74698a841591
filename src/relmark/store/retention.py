"""Retention: which customers have been inactive long enough to be erased.

A person is inactive when none of their profiles (the live one and every one merged into it)
shows activity since the cut-off: no order placed, no message sent, no open, click, rating
or unsubscribe, no tracking call (a visit, a sign-in through the shop's site), and the
person did not become a customer since (the source's "customer since", else when the profile
was created: a store imported yesterday can still purge customers who left years ago).
Profiles already erased are not listed again.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from relmark.enums import EventKind
from relmark.errors import InvalidInput
from relmark.store.models import Customer, CustomerEvent, Message, MessageEvent, Order

DURATION = re.compile(r"^\s*(\d{1,4})\s*([ymwd])\s*$", re.IGNORECASE)


def cutoff(now: datetime, duration: str) -> datetime:
    """`now` minus a duration such as 3y, 18m, 6w or 400d (calendar years and months)."""
    match = DURATION.match(duration or "")
    if not match or int(match.group(1)) == 0:
        raise InvalidInput.single(
            "--inactive-for", "a duration such as 3y, 18m, 6w or 400d (years, months, weeks, days)"
        )
    n, unit = int(match.group(1)), match.group(2).lower()
    if unit == "d":
        return now - timedelta(days=n)
    if unit == "w":
        return now - timedelta(weeks=n)
    months = n * 12 if unit == "y" else n
    year, month = divmod(now.year * 12 + now.month - 1 - months, 12)
    if year < 1:
        raise InvalidInput.single("--inactive-for", "reaches before the year 1")
    day = min(now.day, calendar.monthrange(year, month + 1)[1])
    return now.replace(year=year, month=month + 1, day=day)


def last_activity(connection: Connection) -> dict[int, datetime]:
    """Each profile's latest activity of any kind."""
    sources = [
        # when the person became a customer (the source's date, else the import's)
        select(Customer.id, func.coalesce(Customer.customer_since, Customer.created_at)),
        select(Order.customer_id, func.max(Order.ordered_at)).group_by(Order.customer_id),
        select(Message.customer_id, func.max(Message.sent_at))
        .where(Message.sent_at.is_not(None))
        .group_by(Message.customer_id),
        select(MessageEvent.customer_id, func.max(MessageEvent.at)).group_by(
            MessageEvent.customer_id
        ),
        select(CustomerEvent.customer_id, func.max(CustomerEvent.at))
        .where(CustomerEvent.kind == EventKind.TRACKED.value)
        .group_by(CustomerEvent.customer_id),
    ]
    latest: dict[int, datetime] = {}
    for statement in sources:
        for customer_id, at in connection.execute(statement):
            if at is not None and (customer_id not in latest or at > latest[customer_id]):
                latest[int(customer_id)] = at
    return latest


def inactive_customers(connection: Connection, since: datetime) -> list[dict[str, Any]]:
    """Live, not yet erased profiles whose person shows no activity since `since`, oldest
    activity first: [{customer_id, last_activity}]."""
    latest = last_activity(connection)
    owner = dict(connection.execute(select(Customer.id, Customer.merged_into_id)).all())
    erased = set(
        connection.execute(select(Customer.id).where(Customer.erased_at.is_not(None))).scalars()
    )
    people: dict[int, datetime | None] = {}
    for customer_id in owner:
        root = customer_id
        for _ in range(len(owner)):
            if owner.get(root) is None:
                break
            root = int(owner[root])
        at = latest.get(customer_id)
        known = people.get(root)
        people[root] = at if known is None or (at is not None and at > known) else known
    found = [
        {"customer_id": root, "last_activity": at}
        for root, at in people.items()
        if root not in erased and (at is None or at < since)
    ]
    never = datetime.min.replace(tzinfo=UTC)
    return sorted(found, key=lambda row: (row["last_activity"] or never, row["customer_id"]))
