"""The offer a message carries, for the one composing it: reserved in the store for a real
send (the same code on every attempt), a never-valid sample for a preview or a test send.

An offer is valid to the end of the day the mail names, in the customer's timezone: sent on
1 June with 30 valid days, the mail says "until 1 July" and the code works until midnight
there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from relmark.interact.occasions import known_zone
from relmark.interact.playbook import OfferSpec, Playbook
from relmark.store import offers
from relmark.store.offer_codes import sample_code


@dataclass(frozen=True)
class OfferView:
    """What a template says about the offer: its code and when it ends."""

    code: str
    expires_at: datetime

    def last_day(self, zone: ZoneInfo) -> date:
        """The last day the code works, in the customer's calendar."""
        return (self.expires_at - timedelta(microseconds=1)).astimezone(zone).date()


def customer_zone(customer: dict[str, Any], default_zone: str) -> ZoneInfo:
    zone = customer.get("timezone")
    return ZoneInfo(zone if known_zone(zone) else default_zone)


def expiry(sent: datetime, valid_days: int, zone: ZoneInfo) -> datetime:
    """Midnight after the last valid day, counted from the send in the customer's zone."""
    last = sent.astimezone(zone).date() + timedelta(days=valid_days)
    return datetime.combine(last + timedelta(days=1), time(), tzinfo=zone).astimezone(sent.tzinfo)


def terms(spec: OfferSpec) -> offers.OfferTerms:
    return offers.OfferTerms(
        kind=spec.kind.value,
        code_prefix=spec.code_prefix,
        percent_off=spec.percent_off,
        amount_minor=spec.amount_minor,
        currency=spec.currency,
        gift=spec.gift,
        min_order_minor=spec.min_order_minor,
        max_uses=spec.max_uses,
    )


def carries_offer(book: Playbook) -> bool:
    return book.offer is not None and book.offer.issued_at_send


def reserve(
    connection: Connection,
    message: dict[str, Any],
    facts: dict[str, Any],
    book: Playbook,
    default_zone: str,
    now: datetime,
) -> OfferView | None:
    """The stored offer of a message about to be sent (None when its playbook promises
    nothing at send)."""
    if not carries_offer(book):
        return None
    assert book.offer is not None
    zone = customer_zone(facts["customer"], default_zone)
    row = offers.reserve(
        connection,
        message_id=int(message["id"]),
        customer_id=int(message["customer_id"]),
        playbook=book.name,
        terms=terms(book.offer),
        expires_at=expiry(now, book.offer.valid_days, zone),
        now=now,
    )
    return OfferView(str(row["code"]), row["expires_at"])


def sample(
    book: Playbook,
    facts: dict[str, Any],
    default_zone: str,
    now: datetime,
    connection: Connection | None = None,
    message_id: int | None = None,
) -> OfferView | None:
    """What a dry run or a test send shows: the code already reserved for that message
    (read, not written), else a sample code that can never be redeemed."""
    if not carries_offer(book):
        return None
    assert book.offer is not None
    if connection is not None and message_id:
        existing = offers.by_message(connection, message_id)
        if existing is not None and existing["expires_at"] is not None:
            return OfferView(str(existing["code"]), existing["expires_at"])
    zone = customer_zone(facts["customer"], default_zone)
    return OfferView(sample_code(book.offer.code_prefix), expiry(now, book.offer.valid_days, zone))
