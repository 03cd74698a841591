"""The fraud and eligibility rules of referrals, decided for many referrals at once.

A handful of queries per 500 referrals, whatever their number: the live profile of every
referrer and referee (a recursive walk up `merged_into_id`), every profile of each person (a
walk down), their orders, and their e-mails, phones and addresses from profiles and records.
The rules then run in Python on those few rows, in this order (the first that fails is the
reason recorded): self-referral, the order refunded/returned/cancelled, the referee ordered
before, the same e-mail, phone or street address as the referrer; and, once the reward is
due, a referee with no e-mail and no phone at all (unreachable).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, select, text, union_all

from relmark.contact_keys import address_key, normalize_email, normalize_phone
from relmark.enums import OrderStatus
from relmark.store.models import Customer, Order, SourceRecord
from relmark.store.referral_models import Referral, ReferralReason

CHUNK = 500
#: Order statuses that end a referral, and the reason each is recorded with.
ORDER_ENDINGS = {
    OrderStatus.REFUNDED.value: ReferralReason.ORDER_REFUNDED,
    OrderStatus.PARTIALLY_REFUNDED.value: ReferralReason.ORDER_REFUNDED,
    OrderStatus.RETURNED.value: ReferralReason.ORDER_RETURNED,
    OrderStatus.CANCELLED.value: ReferralReason.ORDER_CANCELLED,
}
CONTACTS = ("email", "phone", "address")

UP = text(
    "WITH RECURSIVE chain(start_id, cur_id) AS ("
    " SELECT id, id FROM customers WHERE id IN :ids"
    " UNION SELECT chain.start_id, c.merged_into_id FROM chain"
    " JOIN customers c ON c.id = chain.cur_id WHERE c.merged_into_id IS NOT NULL)"
    " SELECT chain.start_id, chain.cur_id FROM chain"
    " JOIN customers c ON c.id = chain.cur_id WHERE c.merged_into_id IS NULL"
).bindparams(bindparam("ids", expanding=True))
DOWN = text(
    "WITH RECURSIVE down(live_id, id) AS ("
    " SELECT id, id FROM customers WHERE id IN :ids"
    " UNION SELECT down.live_id, c.id FROM down JOIN customers c ON c.merged_into_id = down.id)"
    " SELECT live_id, id FROM down"
).bindparams(bindparam("ids", expanding=True))


def chunks(values: Iterable[int]) -> Iterable[list[int]]:
    ordered = sorted(set(values))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def live_ids(connection: Connection, ids: Iterable[int]) -> dict[int, int]:
    """Each customer id → the live profile holding that person now (merges followed)."""
    found: dict[int, int] = {}
    for chunk in chunks(ids):
        found |= {int(a): int(b) for a, b in connection.execute(UP, {"ids": chunk})}
    return found


def profiles_of(connection: Connection, live: Iterable[int]) -> dict[int, set[int]]:
    """Each live profile → itself and every profile merged into it, however indirectly."""
    found: dict[int, set[int]] = defaultdict(set)
    for chunk in chunks(live):
        for person, profile in connection.execute(DOWN, {"ids": chunk}):
            found[int(person)].add(int(profile))
    return found


@dataclass(frozen=True)
class People:
    """What the rules need about a set of persons, keyed by live profile."""

    owner: dict[int, int]  # any profile id → its live profile
    orders: dict[int, list[tuple[datetime, int]]]  # person → (ordered_at, order id), not cancelled
    keys: dict[int, dict[str, set[str]]]  # person → e-mails, phones, addresses (normalised)


def people(connection: Connection, persons: Iterable[int]) -> People:
    members = profiles_of(connection, persons)
    owner = {profile: person for person, group in members.items() for profile in group}
    orders: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    keys: dict[int, dict[str, set[str]]] = defaultdict(lambda: {k: set() for k in CONTACTS})
    fields = ("email", "phone", "country", "address", "postcode")
    for chunk in chunks(owner):
        for order_id, customer_id, ordered_at in connection.execute(
            select(Order.id, Order.customer_id, Order.ordered_at).where(
                Order.customer_id.in_(chunk), Order.status != OrderStatus.CANCELLED.value
            )
        ):
            orders[owner[int(customer_id)]].append((ordered_at, int(order_id)))
        profiles = select(Customer.id, *(Customer.__table__.c[f] for f in fields)).where(
            Customer.id.in_(chunk)
        )
        records = select(
            SourceRecord.customer_id, *(SourceRecord.__table__.c[f] for f in fields)
        ).where(SourceRecord.customer_id.in_(chunk))
        for customer_id, email, phone, country, address, postcode in connection.execute(
            union_all(profiles, records)
        ):
            found = {
                "email": normalize_email(email).value,
                "phone": normalize_phone(phone, country).value,
                "address": address_key(address, postcode, country),
            }
            for kind, value in found.items():
                if value:
                    keys[owner[int(customer_id)]][kind].add(value)
    return People(owner, orders, keys)


def ordered_before(known: People, person: int, order_id: int, at: datetime) -> bool:
    return any(
        (when, other) < (at, order_id)
        for when, other in known.orders.get(person, [])
        if other != order_id
    )


def verdicts(
    connection: Connection, referral_ids: list[int], contact_required: Collection[int] = ()
) -> dict[int, ReferralReason | None]:
    """Each referral's first broken rule as things stand now (None: it stands). For the
    referrals in `contact_required` (due for their reward), a referee with no e-mail and no
    phone on any of their profiles is unreachable: a forged order names a made-up user id."""
    cases = []
    for chunk in chunks(referral_ids):
        cases += connection.execute(
            select(
                Referral.id,
                Referral.referrer_id,
                Referral.referee_id,
                Referral.order_id,
                Order.status,
                Order.ordered_at,
            )
            .join(Order, Order.id == Referral.order_id)
            .where(Referral.id.in_(chunk))
        ).all()
    live = live_ids(connection, [c.referrer_id for c in cases] + [c.referee_id for c in cases])
    known = people(connection, set(live.values()))
    decided: dict[int, ReferralReason | None] = {}
    for case in cases:
        referrer = live.get(int(case.referrer_id), int(case.referrer_id))
        referee = live.get(int(case.referee_id), int(case.referee_id))
        broken = _first_broken(known, case, referrer, referee)
        if broken is None and int(case.id) in contact_required:
            theirs = known.keys.get(referee)
            if not theirs or not (theirs["email"] or theirs["phone"]):
                broken = ReferralReason.REFEREE_UNREACHABLE
        decided[int(case.id)] = broken
    return decided


def _first_broken(known: People, case, referrer: int, referee: int) -> ReferralReason | None:  # noqa: ANN001
    if referrer == referee:
        return ReferralReason.SELF_REFERRAL
    if case.status in ORDER_ENDINGS:
        return ORDER_ENDINGS[case.status]
    if ordered_before(known, referee, int(case.order_id), case.ordered_at):
        return ReferralReason.REFEREE_NOT_NEW
    mine, theirs = known.keys.get(referrer), known.keys.get(referee)
    for kind, reason in (
        ("email", ReferralReason.SAME_EMAIL),
        ("phone", ReferralReason.SAME_PHONE),
        ("address", ReferralReason.SAME_ADDRESS),
    ):
        if mine and theirs and mine[kind] & theirs[kind]:
            return reason
    return None
