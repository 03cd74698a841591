"""The life of an offer: reserved when its message is composed, issued when it is sent,
then redeemed (store/offer_redemption.py), expired or voided.

Every change is one conditional statement on the row's status, so a reservation, an issue,
an expiry and a void cannot trample each other whichever runs first; none commits (the
caller owns the transaction, so issuing an offer and marking its message sent are one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from relmark.errors import InvalidInput, RelmarkError
from relmark.store import audit
from relmark.store.models import Message
from relmark.store.offer_codes import new_code, normalise
from relmark.store.offer_models import Offer, OfferKind, OfferRedemption, OfferStatus

#: Statuses in which an offer may still be used or is about to be.
OPEN = (OfferStatus.RESERVED.value, OfferStatus.ISSUED.value)
#: Message statuses in which a reservation may still turn into an issued offer.
UNSENT = ("planned", "sending")


@dataclass(frozen=True)
class OfferTerms:
    """What one offer promises, as a playbook's offer spec states it."""

    kind: str
    code_prefix: str = "RM"
    percent_off: float | None = None
    amount_minor: int | None = None
    currency: str | None = None
    gift: str | None = None
    min_order_minor: int | None = None
    max_uses: int = 1

    def __post_init__(self) -> None:
        if self.kind not in {k.value for k in OfferKind}:
            raise ValueError(f"unknown offer kind {self.kind!r}")
        if self.percent_off is not None and self.amount_minor is not None:
            raise ValueError("an offer is worth a percentage or an amount, not both")
        if self.amount_minor is not None and self.currency is None:
            raise ValueError("an amount off needs its currency")


class OfferNotFound(RelmarkError):
    """No offer has that code."""


def reserve(
    connection: Connection,
    *,
    message_id: int,
    customer_id: int,
    playbook: str,
    terms: OfferTerms,
    expires_at: datetime,
    now: datetime,
) -> dict[str, Any]:
    """The offer `message_id` carries: the one reserved on an earlier attempt (its code
    reused, its expiry moved to this attempt's), else a new one with a fresh code."""
    existing = by_message(connection, message_id)
    if existing is not None:
        if existing["status"] == OfferStatus.RESERVED.value:
            connection.execute(
                update(Offer)
                .where(Offer.id == existing["id"], Offer.status == OfferStatus.RESERVED.value)
                .values(expires_at=expires_at)
            )
            existing["expires_at"] = expires_at
        return existing
    _insert(
        connection,
        terms,
        customer_id=customer_id,
        message_id=message_id,
        playbook=playbook,
        status=OfferStatus.RESERVED.value,
        created_at=now,
        expires_at=expires_at,
    )
    found = by_message(connection, message_id)
    assert found is not None
    return found


def grant(
    connection: Connection,
    *,
    customer_id: int,
    terms: OfferTerms,
    expires_at: datetime | None,
    now: datetime,
    playbook: str | None = None,
) -> dict[str, Any]:
    """An offer issued at once, with no message behind it: a reward, a goodwill gesture, a
    code the shop hands out itself. Its code is fresh."""
    code = _insert(
        connection,
        terms,
        customer_id=customer_id,
        message_id=None,
        playbook=playbook,
        status=OfferStatus.ISSUED.value,
        created_at=now,
        issued_at=now,
        expires_at=expires_at,
    )
    return find(connection, code)


def _insert(connection: Connection, terms: OfferTerms, **values: Any) -> str:
    code = new_code(terms.code_prefix)
    while connection.execute(select(Offer.id).where(Offer.code == code)).first():
        code = new_code(terms.code_prefix)  # 1 in 10^11: never in practice, but never twice
    connection.execute(
        insert(Offer).values(
            code=code,
            kind=terms.kind,
            percent_off=terms.percent_off,
            amount_minor=terms.amount_minor,
            currency=terms.currency,
            gift=terms.gift,
            min_order_minor=terms.min_order_minor,
            max_uses=terms.max_uses,
            uses=0,
            **values,
        )
    )
    return code


def by_message(connection: Connection, message_id: int) -> dict[str, Any] | None:
    row = connection.execute(select(Offer).where(Offer.message_id == message_id)).mappings()
    first = row.first()
    return dict(first) if first else None


def issue(connection: Connection, message_id: int, now: datetime) -> int:
    """The offer of a message that has just been sent becomes valid (with the message's
    transaction: sent without its offer, or an offer without its mail, cannot commit)."""
    result = connection.execute(
        update(Offer)
        .where(Offer.message_id == message_id, Offer.status == OfferStatus.RESERVED.value)
        .values(status=OfferStatus.ISSUED.value, issued_at=now)
    )
    return int(result.rowcount or 0)


def void_for_message(connection: Connection, message_id: int, reason: str, now: datetime) -> int:
    """A message that finally failed never promised anything: its reservation is void."""
    result = connection.execute(
        update(Offer)
        .where(Offer.message_id == message_id, Offer.status == OfferStatus.RESERVED.value)
        .values(status=OfferStatus.VOID.value, closed_at=now, close_reason=reason[:200])
    )
    return int(result.rowcount or 0)


def void(
    connection: Connection, code: str, reason: str, now: datetime, *, actor: audit.Actor
) -> dict[str, Any]:
    """Withdraw an offer (a mistake, fraud, a customer's request); audited. Refused for one
    already closed, saying how it closed."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput.single("--reason", "say why the offer is voided")
    offer = find(connection, code)
    result = connection.execute(
        update(Offer)
        .where(Offer.id == offer["id"], Offer.status.in_(OPEN))
        .values(status=OfferStatus.VOID.value, closed_at=now, close_reason=reason[:200])
    )
    if result.rowcount != 1:
        raise RelmarkError(f"offer {offer['code']} is already {offer['status']}: nothing to void")
    audit.record(
        connection,
        actor,
        "offer.void",
        customer_id=int(offer["customer_id"]),
        detail={"offer_id": int(offer["id"]), "code": offer["code"], "reason": reason[:200]},
        at=now,
    )
    return find(connection, offer["code"])


def void_open_of(
    connection: Connection, customer_ids: list[int], reason: str, now: datetime
) -> int:
    """Every open offer of these profiles is void (an erased customer is promised nothing)."""
    result = connection.execute(
        update(Offer)
        .where(Offer.customer_id.in_(customer_ids), Offer.status.in_(OPEN))
        .values(status=OfferStatus.VOID.value, closed_at=now, close_reason=reason[:200])
    )
    return int(result.rowcount or 0)


@dataclass(frozen=True)
class Expiry:
    expired: int
    """Issued offers whose time ran out."""
    voided: int
    """Reservations whose message will never be sent (held, expired or pruned meanwhile)."""


def expire(connection: Connection, now: datetime) -> Expiry:
    """Close what time has closed, in two set-based statements; running it again changes
    nothing."""
    expired = connection.execute(
        update(Offer)
        .where(Offer.status == OfferStatus.ISSUED.value, Offer.expires_at <= now)
        .values(status=OfferStatus.EXPIRED.value, closed_at=Offer.expires_at)
    )
    still_unsent = select(Message.id).where(
        Message.id == Offer.message_id, Message.status.in_(UNSENT)
    )
    voided = connection.execute(
        update(Offer)
        .where(Offer.status == OfferStatus.RESERVED.value, ~still_unsent.exists())
        .values(status=OfferStatus.VOID.value, closed_at=now, close_reason="message not sent")
    )
    return Expiry(int(expired.rowcount or 0), int(voided.rowcount or 0))


def find(connection: Connection, code: str) -> dict[str, Any]:
    """The offer with this code (as typed: any case, spaces, a missing dash)."""
    typed = normalise(code)
    row = connection.execute(select(Offer).where(Offer.code == typed)).mappings().first()
    if row is None:
        raise OfferNotFound(f"no offer has the code {typed!r}")
    return dict(row)


def redemptions(connection: Connection, offer_id: int) -> list[dict[str, Any]]:
    """The orders that used an offer, oldest first."""
    rows = connection.execute(
        select(OfferRedemption)
        .where(OfferRedemption.offer_id == offer_id)
        .order_by(OfferRedemption.redeemed_at, OfferRedemption.id)
    ).mappings()
    return [dict(r) for r in rows]


def list_offers(
    connection: Connection,
    *,
    status: str | None = None,
    customer_ids: list[int] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[dict[str, Any]]]:
    """Offers newest first, and how many match in all."""
    if status is not None and status not in {s.value for s in OfferStatus}:
        known = ", ".join(s.value for s in OfferStatus)
        raise InvalidInput.single("status", f"unknown offer status {status!r}; one of {known}")
    where: list[Any] = []
    if status is not None:
        where.append(Offer.status == status)
    if customer_ids is not None:
        where.append(Offer.customer_id.in_(customer_ids))
    total = connection.execute(select(func.count()).select_from(Offer).where(*where)).scalar_one()
    rows = connection.execute(
        select(Offer)
        .where(*where)
        .order_by(Offer.created_at.desc(), Offer.id.desc())
        .limit(limit)
        .offset(offset)
    ).mappings()
    return int(total), [dict(r) for r in rows]


def summary(offer: dict[str, Any]) -> dict[str, Any]:
    """An offer as the CLI and the API show it: its terms in one `value`, no internals."""
    value = None
    if offer["percent_off"] is not None:
        value = f"{float(offer['percent_off']):g}%"
    elif offer["amount_minor"] is not None:
        value = f"{offer['amount_minor']} {offer['currency']} (minor units)"
    elif offer["gift"]:
        value = offer["gift"]
    keys = (
        "code",
        "kind",
        "status",
        "customer_id",
        "playbook",
        "message_id",
        "percent_off",
        "amount_minor",
        "currency",
        "gift",
        "min_order_minor",
        "uses",
        "max_uses",
        "created_at",
        "issued_at",
        "expires_at",
        "closed_at",
        "close_reason",
    )
    shown = {k: offer[k] for k in keys}
    shown["percent_off"] = None if offer["percent_off"] is None else float(offer["percent_off"])
    shown["value"] = value
    return shown
