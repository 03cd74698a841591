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

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from relmark.store import referral_rules as rules
from relmark.store.live import absorbed_into, live_profile
from relmark.store.models import Order, SourceRecord
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
    """Attribute one order to a code: (referral id, status, reason), or None (see
    `attribute_many`)."""
    made = attribute_many(connection, [(order_id, code_id)], via, now)
    return made[0][1:] if made else None


def attribute_many(
    connection: Connection, items: list[tuple[int, int]], via: ReferralVia, now: datetime
) -> list[tuple[int, int, str, str | None]]:
    """Attribute orders to codes, (order id, code id) each: (order id, referral id, status,
    reason) for each referral made. An order that already has a referral is skipped
    (attribution is idempotent); a link seen earlier attributes only a person's first
    order; a code typed on an order (coupon, import column) is always recorded, rejected
    when a rule says so. Set-based: a few queries per 500 orders."""
    wanted = dict(items)
    orders: dict[int, Any] = {}
    for chunk in rules.chunks(wanted):
        found = select(
            Order.id, Order.customer_id, Order.discount_minor, Order.currency, Order.ordered_at
        ).where(Order.id.in_(chunk))
        orders |= {int(row.id): row for row in connection.execute(found)}
        taken = connection.execute(select(Referral.order_id).where(Referral.order_id.in_(chunk)))
        for (order_id,) in taken:
            orders.pop(int(order_id), None)
    live = rules.live_ids(connection, [int(o.customer_id) for o in orders.values()])
    referee = {i: live.get(int(o.customer_id), int(o.customer_id)) for i, o in orders.items()}
    if via == ReferralVia.LINK:
        known = rules.people(connection, set(referee.values()))
        for order_id in list(orders):
            at = orders[order_id].ordered_at
            if rules.ordered_before(known, referee[order_id], order_id, at):
                del orders[order_id]
    owners: dict[int, int] = {}
    for chunk in rules.chunks(wanted[i] for i in orders):
        owners |= {
            int(code_id): int(owner)
            for code_id, owner in connection.execute(
                select(ReferralCode.id, ReferralCode.customer_id).where(ReferralCode.id.in_(chunk))
            )
        }
    rows = [
        {
            "code_id": wanted[order_id],
            "referrer_id": owners[wanted[order_id]],
            "referee_id": referee[order_id],
            "order_id": order_id,
            "via": via.value,
            "status": ReferralStatus.PENDING.value,
            "reason": None,
            "referee_percent": None,
            "referee_discount_minor": int(order.discount_minor or 0),
            "currency": order.currency,
            "reward_offer_id": None,
            "created_at": now,
            "decided_at": None,
        }
        for order_id, order in orders.items()
    ]
    made = _insert(connection, rows)
    decided = rules.verdicts(connection, list(made.values()))
    for reason in {r for r in decided.values() if r is not None}:
        ids = [i for i, r in decided.items() if r == reason]
        for chunk in rules.chunks(ids):
            connection.execute(
                update(Referral)
                .where(Referral.id.in_(chunk), Referral.status == ReferralStatus.PENDING.value)
                .values(status=ReferralStatus.REJECTED.value, reason=reason.value, decided_at=now)
            )
    results = []
    for order_id, referral_id in made.items():
        reason = decided.get(referral_id)
        status = ReferralStatus.REJECTED if reason else ReferralStatus.PENDING
        results.append((order_id, referral_id, status.value, reason.value if reason else None))
    return results


def _insert(connection: Connection, rows: list[dict[str, Any]]) -> dict[int, int]:
    """Insert referral rows: order id → referral id. All at once; should a concurrent
    writer have attributed one of the orders meanwhile, one by one, skipping theirs."""
    if not rows:
        return {}
    statement = insert(Referral).returning(Referral.order_id, Referral.id)
    try:
        with connection.begin_nested():
            return {int(o): int(i) for o, i in connection.execute(statement, rows)}
    except IntegrityError:
        made = {}
        for row in rows:
            try:
                with connection.begin_nested():
                    for order_id, referral_id in connection.execute(statement, [row]):
                        made[int(order_id)] = int(referral_id)
            except IntegrityError:
                continue  # this order was attributed by the other writer
        return made


def verdict(connection: Connection, referral_id: int) -> ReferralReason | None:
    """The first rule the referral breaks, as things stand now; None when it stands."""
    return rules.verdicts(connection, [referral_id]).get(referral_id)


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
    checked): counts by outcome, set-based."""
    counts = {"referrals_pending": 0, "referrals_rejected": 0, "referral_codes_unknown": 0}
    ids: dict[str, int] = {}
    known: dict[str, int] = {}
    externals = sorted({external for external, _raw in codes})
    typed = sorted({normalise(raw) for _external, raw in codes})
    for start in range(0, len(externals), rules.CHUNK):
        chunk = externals[start : start + rules.CHUNK]
        ids |= dict(
            connection.execute(
                select(Order.external_id, Order.id).where(
                    Order.source == source, Order.external_id.in_(chunk)
                )
            ).all()
        )
    for start in range(0, len(typed), rules.CHUNK):
        chunk = typed[start : start + rules.CHUNK]
        known |= dict(
            connection.execute(
                select(ReferralCode.code, ReferralCode.id).where(ReferralCode.code.in_(chunk))
            ).all()
        )
    items = []
    for external, raw in codes:
        code_id = known.get(normalise(raw))
        if code_id is None or external not in ids:
            counts["referral_codes_unknown"] += 1
        else:
            items.append((ids[external], code_id))
    for _order, _referral, status, _reason in attribute_many(
        connection, items, ReferralVia.IMPORT, now
    ):
        counts[f"referrals_{status}"] += 1
    return counts
