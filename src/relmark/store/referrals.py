"""Referral codes and attribution: store rules every stage shares.

A customer's code (REF-7KQ2M9TX, from `offer_codes.new_code`) is made the first time a
message or a command needs it and never changes; across merges the survivor keeps its own,
and an absorbed customer's code still resolves, to the survivor. A referral is attributed
when a new customer's first order carries a code: as the coupon of a tracked order, through a
`?ref=` the tracking endpoint saw for that visitor, or in an order file's `referral_code`
column. The fraud rules run at once and again before any reward (a merge found later can
still make it a self-referral); the first that fails is recorded as the reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, exists, insert, or_, select, union_all, update
from sqlalchemy.exc import IntegrityError

from relmark.contact_keys import address_key, normalize_email, normalize_phone
from relmark.enums import OrderStatus
from relmark.store.live import absorbed_into, live_profile
from relmark.store.models import Customer, Order, SourceRecord
from relmark.store.offer_codes import new_code, normalise
from relmark.store.referral_codes import PREFIX, is_code_shaped
from relmark.store.referral_models import (
    Referral,
    ReferralCode,
    ReferralReason,
    ReferralStatus,
    ReferralTouch,
    ReferralVia,
)

#: Order statuses that end a referral, and the reason each is recorded with.
ORDER_ENDINGS = {
    OrderStatus.REFUNDED.value: ReferralReason.ORDER_REFUNDED,
    OrderStatus.PARTIALLY_REFUNDED.value: ReferralReason.ORDER_REFUNDED,
    OrderStatus.RETURNED.value: ReferralReason.ORDER_RETURNED,
    OrderStatus.CANCELLED.value: ReferralReason.ORDER_CANCELLED,
}


def code_for(connection: Connection, customer_id: int, now: datetime) -> str:
    """The live profile's own code, made on first need (a concurrent maker's code wins)."""
    owner = live_profile(connection, customer_id)
    if owner is None:
        raise ValueError(f"no customer {customer_id}")
    found = _own_code(connection, owner)
    while found is None:
        try:
            with connection.begin_nested():
                connection.execute(
                    insert(ReferralCode).values(
                        code=new_code(PREFIX), customer_id=owner, created_at=now
                    )
                )
        except IntegrityError:
            pass  # another writer made this customer's code (or, rarely, drew the same code)
        found = _own_code(connection, owner)
    return found


def _own_code(connection: Connection, customer_id: int) -> str | None:
    return connection.execute(
        select(ReferralCode.code).where(ReferralCode.customer_id == customer_id)
    ).scalar()


def find_code(connection: Connection, raw: str | None) -> tuple[int, int] | None:
    """(code id, the live profile of its owner) for a code as typed; None if unknown."""
    if not raw or not isinstance(raw, str) or not is_code_shaped(raw):
        return None
    row = connection.execute(
        select(ReferralCode.id, ReferralCode.customer_id).where(ReferralCode.code == normalise(raw))
    ).first()
    if row is None:
        return None
    owner = live_profile(connection, int(row[1]))
    return (int(row[0]), owner) if owner is not None else None


def remember_touch(connection: Connection, source_record_id: int, raw: str, at: datetime) -> bool:
    """Keep the first known code a tracking visitor arrived with; True if newly kept."""
    found = find_code(connection, raw)
    if found is None:
        return False
    already = connection.execute(
        select(ReferralTouch.id).where(ReferralTouch.source_record_id == source_record_id)
    ).first()
    if already:
        return False
    connection.execute(
        insert(ReferralTouch).values(source_record_id=source_record_id, code_id=found[0], at=at)
    )
    return True


def touched_code(connection: Connection, customer_id: int) -> int | None:
    """The earliest code any tracking record of this person arrived with."""
    people = absorbed_into(connection, live_profile(connection, customer_id) or customer_id)
    return connection.execute(
        select(ReferralTouch.code_id)
        .join(SourceRecord, SourceRecord.id == ReferralTouch.source_record_id)
        .where(SourceRecord.customer_id.in_(people))
        .order_by(ReferralTouch.at, ReferralTouch.id)
        .limit(1)
    ).scalar()


def attribute(
    connection: Connection, *, order_id: int, code_id: int, via: ReferralVia, now: datetime
) -> tuple[int, str, str | None] | None:
    """Attribute `order_id` to a code: (referral id, status, reason); None when the order
    already has a referral (attribution is idempotent) or is gone. A link seen earlier
    attributes only a person's first order; a code typed on an order (coupon, import
    column) is always recorded, rejected when the rules say so."""
    order = connection.execute(
        select(Order.customer_id, Order.discount_minor, Order.currency).where(Order.id == order_id)
    ).first()
    if order is None or _has_referral(connection, order_id):
        return None
    referee = live_profile(connection, int(order.customer_id)) or int(order.customer_id)
    if via == ReferralVia.LINK and _earlier_orders(connection, referee, order_id):
        return None
    referrer = connection.execute(
        select(ReferralCode.customer_id).where(ReferralCode.id == code_id)
    ).scalar_one()
    try:
        with connection.begin_nested():
            referral_id = connection.execute(
                insert(Referral)
                .values(
                    code_id=code_id,
                    referrer_id=referrer,
                    referee_id=referee,
                    order_id=order_id,
                    via=via.value,
                    status=ReferralStatus.PENDING.value,
                    referee_discount_minor=int(order.discount_minor or 0),
                    currency=order.currency,
                    created_at=now,
                )
                .returning(Referral.id)
            ).scalar_one()
    except IntegrityError:
        return None  # a concurrent call attributed this order first
    reason = verdict(connection, int(referral_id))
    if reason is not None:
        reject(connection, int(referral_id), reason, now)
        return int(referral_id), ReferralStatus.REJECTED.value, reason.value
    return int(referral_id), ReferralStatus.PENDING.value, None


def _has_referral(connection: Connection, order_id: int) -> bool:
    return (
        connection.execute(select(Referral.id).where(Referral.order_id == order_id)).first()
        is not None
    )


def _earlier_orders(connection: Connection, customer_id: int, order_id: int) -> bool:
    """Whether the person (every profile merged into theirs) ordered before `order_id`;
    cancelled orders do not count (nothing was bought)."""
    this = select(Order.ordered_at, Order.id).where(Order.id == order_id).subquery()
    people = absorbed_into(connection, customer_id)
    earlier = (
        select(Order.id)
        .where(
            Order.customer_id.in_(people),
            Order.id != order_id,
            Order.status != OrderStatus.CANCELLED.value,
            or_(
                Order.ordered_at < this.c.ordered_at,
                and_(Order.ordered_at == this.c.ordered_at, Order.id < this.c.id),
            ),
        )
        .limit(1)
    )
    return connection.execute(select(exists(earlier))).scalar_one()


def verdict(connection: Connection, referral_id: int) -> ReferralReason | None:
    """The first rule the referral breaks, as things stand now; None when it stands."""
    row = connection.execute(
        select(
            Referral.referrer_id,
            Referral.referee_id,
            Referral.order_id,
            Order.status,
        )
        .join(Order, Order.id == Referral.order_id)
        .where(Referral.id == referral_id)
    ).one()
    referrer = live_profile(connection, int(row.referrer_id))
    referee = live_profile(connection, int(row.referee_id))
    if referrer is None or referrer == referee:
        return ReferralReason.SELF_REFERRAL
    if row.status in ORDER_ENDINGS:
        return ORDER_ENDINGS[row.status]
    if _earlier_orders(connection, referee or int(row.referee_id), int(row.order_id)):
        return ReferralReason.REFEREE_NOT_NEW
    mine = contact_keys(connection, referrer)
    theirs = contact_keys(connection, referee or int(row.referee_id))
    for kind, reason in (
        ("email", ReferralReason.SAME_EMAIL),
        ("phone", ReferralReason.SAME_PHONE),
        ("address", ReferralReason.SAME_ADDRESS),
    ):
        if mine[kind] & theirs[kind]:
            return reason
    return None


def contact_keys(connection: Connection, customer_id: int) -> dict[str, set[str]]:
    """Normalised e-mails, phones and addresses of a person: their profile and every record
    of every profile merged into it."""
    people = absorbed_into(connection, customer_id)
    fields = ("email", "phone", "country", "address", "postcode")
    profile = select(*(Customer.__table__.c[f] for f in fields)).where(Customer.id.in_(people))
    records = select(*(SourceRecord.__table__.c[f] for f in fields)).where(
        SourceRecord.customer_id.in_(people)
    )
    keys: dict[str, set[str]] = {"email": set(), "phone": set(), "address": set()}
    for email, phone, country, address, postcode in connection.execute(union_all(profile, records)):
        found = {
            "email": normalize_email(email).value,
            "phone": normalize_phone(phone, country).value,
            "address": address_key(address, postcode, country),
        }
        for kind, value in found.items():
            if value:
                keys[kind].add(value)
    return keys


def reject(connection: Connection, referral_id: int, reason: ReferralReason, now: datetime) -> bool:
    """Pending → rejected with its reason; False when another writer decided it first."""
    result = connection.execute(
        update(Referral)
        .where(Referral.id == referral_id, Referral.status == ReferralStatus.PENDING.value)
        .values(status=ReferralStatus.REJECTED.value, reason=reason.value, decided_at=now)
    )
    return bool(result.rowcount)


def attribute_order(
    connection: Connection, order_id: int, coupon: str | None, now: datetime
) -> dict[str, Any] | None:
    """A tracked order: its coupon if that is a referral code, else a `?ref=` remembered for
    the buyer. The result says which referral (if any) it made."""
    found = find_code(connection, coupon)
    via = ReferralVia.COUPON
    if found is None:
        customer = connection.execute(
            select(Order.customer_id).where(Order.id == order_id)
        ).scalar()
        code_id = touched_code(connection, int(customer)) if customer is not None else None
        if code_id is None:
            return None
        via, found = ReferralVia.LINK, (code_id, 0)
    made = attribute(connection, order_id=order_id, code_id=found[0], via=via, now=now)
    if made is None:
        return None
    return {"referral_id": made[0], "status": made[1], "reason": made[2], "via": via.value}


def attribute_imported(
    connection: Connection, source: str, codes: list[tuple[str, str]], now: datetime
) -> dict[str, int]:
    """(external order id, referral code) of an import's orders that carry one (shape already
    checked): counts by outcome. Only those orders are visited, one small lookup each."""
    counts = {"referrals_pending": 0, "referrals_rejected": 0, "referral_codes_unknown": 0}
    ids: dict[str, int] = {}
    for start in range(0, len(codes), 500):
        chunk = [external for external, _code in codes[start : start + 500]]
        ids |= dict(
            connection.execute(
                select(Order.external_id, Order.id).where(
                    Order.source == source, Order.external_id.in_(chunk)
                )
            ).all()
        )
    for external, raw in codes:
        found = find_code(connection, raw)
        if found is None or external not in ids:
            counts["referral_codes_unknown"] += 1
            continue
        made = attribute(
            connection, order_id=ids[external], code_id=found[0], via=ReferralVia.IMPORT, now=now
        )
        if made is not None:
            counts[f"referrals_{made[1]}"] += 1
    return counts
