"""What tracking messages change in the store: profiles, identities, timeline, orders.

A tracking user is a source record of source `segment` (by userId) or `segment-anonymous`
(by anonymousId). Identify and alias join records of one person into one profile (the older
profile survives, as in identity resolution); repeated messageIds are skipped.
"""

from __future__ import annotations

import contextlib
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from relmark.enums import EventKind
from relmark.ingest.limits import EARLIEST_DATE
from relmark.ingest.tracking import (
    ADDRESS_FIELDS,
    ORDER_COMPLETED,
    ORDER_REFUNDED,
    TRAIT_FIELDS,
    Tracked,
)
from relmark.store import identity, offer_redemption, referrals, suppression
from relmark.store.audit import Actor
from relmark.store.live import live_profile
from relmark.store.models import (
    Customer,
    CustomerEvent,
    Order,
    OrderLine,
    Product,
    SourceRecord,
    TrackedMessage,
)

USER, ANONYMOUS = "segment", "segment-anonymous"
TRACKING = Actor("tracking", "tracking endpoint")


def store(connection: Connection, messages: list[Tracked], now: datetime) -> dict[str, int]:
    """Apply messages in order inside the caller's transaction; counts by outcome."""
    seen = _known_ids(connection, [m.message_id for m in messages])
    counts = {
        "stored": 0,
        "duplicates": 0,
        "orders": 0,
        "refunds": 0,
        "coupons_redeemed": 0,
        "coupons_refused": 0,
        "referrals": 0,
    }
    touched: set[int] = set()
    for message in messages:
        if message.message_id in seen:
            counts["duplicates"] += 1
            continue
        seen.add(message.message_id)
        customer_id = _apply(connection, message, now, counts)
        if message.type in ("identify", "alias"):
            touched.add(customer_id)
        connection.execute(
            insert(TrackedMessage).values(
                message_id=message.message_id,
                kind=message.type,
                customer_id=customer_id,
                received_at=now,
            )
        )
        counts["stored"] += 1
    live = [_live(connection, c) for c in touched]
    identity.refresh_profiles(connection, sorted(set(live)), now)
    return counts


def _known_ids(connection: Connection, ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found |= set(
            connection.execute(
                select(TrackedMessage.message_id).where(TrackedMessage.message_id.in_(chunk))
            ).scalars()
        )
    return found


def _apply(connection: Connection, message: Tracked, now: datetime, counts: dict[str, int]) -> int:
    if message.type == "alias":
        assert message.previous_id
        assert message.user_id
        return _alias(connection, message.previous_id, message.user_id, message.timestamp, now)
    customer_id = _resolve(connection, message, now)
    if message.referral_code:
        record = _own_record(connection, message)
        referrals.remember_touch(connection, record[0], message.referral_code, message.timestamp)
    if message.type == "identify":
        traits = _traits(connection, message, now)
        live = _live(connection, customer_id)
        suppressed = suppression.matching_kind(
            connection, traits.get("email"), traits.get("phone"), traits.get("country")
        )
        if suppressed:
            suppression.restrict_returning(
                connection, live, suppressed, now, via="tracking", actor=TRACKING
            )
        return live
    parameters: dict[str, Any] = {"type": message.type, "message_id": message.message_id}
    if message.event:
        parameters["event"] = message.event
    if message.properties:
        parameters["properties"] = message.properties
    connection.execute(
        insert(CustomerEvent).values(
            at=message.timestamp,
            customer_id=customer_id,
            kind=EventKind.TRACKED.value,
            parameters=parameters,
        )
    )
    if message.order is not None and message.event == ORDER_COMPLETED:
        order_id = _order(connection, message, customer_id, now)
        if order_id is not None:
            counts["orders"] += 1
            coupon = message.order.coupon
            if referrals.find_code(connection, coupon) is None:  # a referral code is no offer
                _coupon(connection, message, customer_id, order_id, now, counts)
            if referrals.attribute_order(connection, order_id, coupon, now) is not None:
                counts["referrals"] += 1
    elif message.order is not None and message.event == ORDER_REFUNDED:
        result = connection.execute(
            update(Order)
            .where(Order.source == USER, Order.external_id == message.order.order_id)
            .values(status="refunded")
        )
        counts["refunds"] += int(result.rowcount or 0)
    return customer_id


def _record(connection: Connection, source: str, external_id: str) -> tuple[int, int] | None:
    row = connection.execute(
        select(SourceRecord.id, SourceRecord.customer_id).where(
            SourceRecord.source == source, SourceRecord.external_id == external_id
        )
    ).first()
    return (int(row[0]), int(row[1])) if row else None


def _new_record(
    connection: Connection,
    source: str,
    external_id: str,
    customer_id: int | None,
    at: datetime,
    now: datetime,
) -> tuple[int, int]:
    if customer_id is None:
        customer_id = connection.execute(
            insert(Customer)
            .values(created_at=now, updated_at=now, customer_since=at)
            .returning(Customer.id)
        ).scalar_one()
    record_id = connection.execute(
        insert(SourceRecord)
        .values(
            source=source,
            external_id=external_id,
            customer_id=customer_id,
            customer_since=at,
            imported_at=now,
            updated_at=now,
        )
        .returning(SourceRecord.id)
    ).scalar_one()
    connection.execute(
        update(Customer)
        .where(Customer.id == customer_id, Customer.first_record_id.is_(None))
        .values(first_record_id=record_id)
    )
    return int(record_id), int(customer_id)


def _live(connection: Connection, customer_id: int) -> int:
    """Follow merges to the profile that holds the person now."""
    found = live_profile(connection, customer_id)
    assert found is not None, customer_id  # ids here come from rows just read
    return found


def _resolve(connection: Connection, message: Tracked, now: datetime) -> int:
    """The profile a message belongs to; identify joins the anonymous visitor to the user."""
    user = _record(connection, USER, message.user_id) if message.user_id else None
    anonymous = (
        _record(connection, ANONYMOUS, message.anonymous_id) if message.anonymous_id else None
    )
    if message.user_id and user is None:
        owner = _live(connection, anonymous[1]) if anonymous else None
        user = _new_record(connection, USER, message.user_id, owner, message.timestamp, now)
    if message.anonymous_id and anonymous is None:
        owner = _live(connection, user[1]) if user else None
        anonymous = _new_record(
            connection, ANONYMOUS, message.anonymous_id, owner, message.timestamp, now
        )
    if user and anonymous:
        _join(connection, _live(connection, user[1]), _live(connection, anonymous[1]), now)
    chosen = user or anonymous
    assert chosen is not None
    return _live(connection, chosen[1])


def _alias(connection: Connection, previous: str, user_id: str, at: datetime, now: datetime) -> int:
    before = _record(connection, USER, previous) or _record(connection, ANONYMOUS, previous)
    user = _record(connection, USER, user_id)
    if user is None:
        owner = _live(connection, before[1]) if before else None
        user = _new_record(connection, USER, user_id, owner, at, now)
    if before is not None:
        _join(connection, _live(connection, user[1]), _live(connection, before[1]), now)
    return _live(connection, user[1])


def _join(connection: Connection, a: int, b: int, now: datetime) -> None:
    if a == b:
        return
    survivor, absorbed = min(a, b), max(a, b)
    records = list(
        connection.execute(
            select(SourceRecord.id).where(SourceRecord.customer_id == absorbed)
        ).scalars()
    )
    identity.apply_merges(
        connection,
        [
            {
                "survivor_id": survivor,
                "absorbed_id": absorbed,
                "probability": None,
                "evidence": {"tracking": "identify or alias named both ids"},
                "record_ids": records,
            }
        ],
        kind="tracking",
        now=now,
    )


def _traits(connection: Connection, message: Tracked, now: datetime) -> dict[str, Any]:
    source, external = (
        (USER, message.user_id) if message.user_id else (ANONYMOUS, message.anonymous_id)
    )
    values: dict[str, Any] = {}
    traits = message.traits
    for key, column in TRAIT_FIELDS.items():
        value = traits.get(key)
        if isinstance(value, str) and value.strip():  # checked by the parser's rules
            values[column] = value.strip()
    name = traits.get("name")
    if isinstance(name, str) and name.strip() and "first_name" not in values:
        first, _, last = name.strip().partition(" ")
        values["first_name"], values["last_name"] = first, last or None
    address = traits.get("address")
    if isinstance(address, dict):
        for key, column in ADDRESS_FIELDS.items():
            if isinstance(address.get(key), str) and address[key].strip():
                values[column] = address[key].strip()
    if "country" in values:
        values["country"] = values["country"][:2].upper()
    birthday = traits.get("birthday")
    if isinstance(birthday, str):
        with contextlib.suppress(ValueError):  # an unreadable birthday is left out
            born = date.fromisoformat(birthday[:10])
            if EARLIEST_DATE <= born <= now.date():  # the importer's range for dates
                values["birthday"] = born
    if values:
        values["updated_at"] = now
        values["email_key"] = None  # re-keyed by the next identity resolution
        values["phone_key"] = None
        connection.execute(
            update(SourceRecord)
            .where(SourceRecord.source == source, SourceRecord.external_id == external)
            .values(**values)
        )
    return values


def _coupon(
    connection: Connection,
    message: Tracked,
    customer_id: int,
    order_id: int,
    now: datetime,
    counts: dict[str, int],
) -> None:
    """Segment's `coupon` on an order redeems that offer for it; a code that cannot be
    honoured is kept on the customer's timeline with its reason (the order stays: the shop
    took it)."""
    coupon = message.properties.get("coupon") if message.properties else None
    if not isinstance(coupon, str) or not coupon.strip():
        return
    try:
        offer_redemption.redeem(connection, coupon[:60], order_id, now)
    except offer_redemption.OfferRefused as refused:
        offer_redemption.record_refusal(connection, customer_id, order_id, refused, now)
        counts["coupons_refused"] += 1
        return
    counts["coupons_redeemed"] += 1


def _own_record(connection: Connection, message: Tracked) -> tuple[int, int]:
    """(record id, customer id) of the message's user, else its anonymous visitor."""
    record = (
        _record(connection, USER, message.user_id)
        if message.user_id
        else _record(connection, ANONYMOUS, message.anonymous_id or "")
    )
    assert record is not None  # _resolve made it
    return record


def _order(connection: Connection, message: Tracked, customer_id: int, now: datetime) -> int | None:
    """The new order's id; None when it was stored before."""
    order = message.order
    assert order is not None
    exists = connection.execute(
        select(Order.id).where(Order.source == USER, Order.external_id == order.order_id)
    ).first()
    if exists:
        return None
    record = _own_record(connection, message)
    order_id = connection.execute(
        insert(Order)
        .values(
            source=USER,
            external_id=order.order_id,
            customer_id=customer_id,
            source_record_id=record[0],
            ordered_at=message.timestamp,
            currency=order.currency,
            amount_minor=order.amount_minor,
            discount_minor=order.discount_minor,
            quantity=sum(line.quantity for line in order.lines) or None,
            status="completed",
            channel="web",
        )
        .returning(Order.id)
    ).scalar_one()
    skus = {line.sku for line in order.lines}
    known = (
        dict(connection.execute(select(Product.sku, Product.id).where(Product.sku.in_(skus))).all())
        if skus
        else {}
    )
    for number, line in enumerate(order.lines, start=1):
        connection.execute(
            insert(OrderLine).values(
                order_id=order_id,
                line_no=number,
                product_id=known.get(line.sku),
                sku=line.sku,
                quantity=line.quantity,
                unit_price_minor=line.unit_price_minor,
            )
        )
    return int(order_id)
