"""Redeeming an offer for an order: every rule a shop's checkout would apply, with a reason a
person can act on when one refuses.

The use itself is one conditional UPDATE (`uses = uses + 1 … WHERE status = 'issued' AND
uses < max_uses`): two checkouts redeeming the last use of a code at once are serialised by
the row lock, and the second finds no row to update, so exactly one wins on any backend.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, case, insert, select, update

from relmark.enums import EventKind
from relmark.errors import InvalidInput, RelmarkError
from relmark.store import audit
from relmark.store.live import live_profile
from relmark.store.models import CustomerEvent, Order
from relmark.store.offer_codes import normalise
from relmark.store.offer_models import Offer, OfferRedemption, OfferStatus


class Refusal(StrEnum):
    """Why an offer cannot be used for an order (machine-readable; the message says more)."""

    UNKNOWN = "unknown"
    NOT_ISSUED = "not_issued"
    EXPIRED = "expired"
    VOID = "void"
    USED_UP = "used_up"
    OTHER_CUSTOMER = "other_customer"
    OTHER_CURRENCY = "other_currency"
    BELOW_MINIMUM = "below_minimum"
    ALREADY_USED_FOR_ORDER = "already_used_for_order"


class OfferRefused(RelmarkError):
    """The offer exists (or not) but cannot be used for this order; nothing was changed."""

    def __init__(self, reason: Refusal, code: str, message: str) -> None:
        super().__init__(f"offer {code} refused: {message}")
        self.reason = reason
        self.code = code
        self.message = message


def order_id_of(
    connection: Connection,
    *,
    order_id: int | None = None,
    external_id: str | None = None,
    source: str | None = None,
    where: str = "--order",
) -> int:
    """The order named by relmark's id, or by the shop's order number (and its source when
    two sources use the same number)."""
    if order_id is not None:
        if external_id is not None:
            raise InvalidInput.single(where, "name the order by its id or by its number, not both")
        found = connection.execute(select(Order.id).where(Order.id == order_id)).first()
        if found is None:
            raise InvalidInput.single(where, f"no order with id {order_id}")
        return order_id
    if not external_id or not external_id.strip():
        raise InvalidInput.single(where, "name the order (its number, or relmark's id)")
    query = select(Order.id, Order.source).where(Order.external_id == external_id.strip())
    if source:
        query = query.where(Order.source == source)
    matches = connection.execute(query.limit(20)).all()
    if not matches:
        origin = f" from source {source!r}" if source else ""
        raise InvalidInput.single(where, f"no order numbered {external_id.strip()!r}{origin}")
    if len(matches) > 1:
        sources = ", ".join(sorted(str(m[1]) for m in matches))
        raise InvalidInput.single(
            where,
            f"order number {external_id.strip()!r} exists in several sources ({sources}): "
            "name the source",
        )
    return int(matches[0][0])


def redeem(
    connection: Connection,
    code: str,
    order_id: int,
    now: datetime,
    *,
    actor: audit.Actor | None = None,
) -> dict[str, Any]:
    """Use `code` for the order, inside the caller's transaction: the redemption, the offer's
    use and the customer's timeline entry; audited when a person (`actor`) did it. Raises
    OfferRefused, changing nothing, when a rule says no."""
    typed = normalise(code)
    offer = connection.execute(select(Offer).where(Offer.code == typed)).mappings().first()
    if offer is None:
        raise OfferRefused(Refusal.UNKNOWN, typed, "no offer has this code")
    order = connection.execute(select(Order).where(Order.id == order_id)).mappings().first()
    if order is None:
        raise InvalidInput.single("order", f"no order with id {order_id}")
    _check(connection, dict(offer), dict(order))
    used = offer["uses"] + 1
    result = connection.execute(
        update(Offer)
        .where(
            Offer.id == offer["id"],
            Offer.status == OfferStatus.ISSUED.value,
            Offer.uses < Offer.max_uses,
        )
        .values(
            uses=Offer.uses + 1,
            status=case(
                (Offer.uses + 1 >= Offer.max_uses, OfferStatus.REDEEMED.value),
                else_=Offer.status,
            ),
            closed_at=case((Offer.uses + 1 >= Offer.max_uses, now), else_=Offer.closed_at),
            close_reason=case(
                (Offer.uses + 1 >= Offer.max_uses, "redeemed"), else_=Offer.close_reason
            ),
        )
    )
    if result.rowcount != 1:  # another checkout got there first, or it closed meanwhile
        now_status = connection.execute(
            select(Offer.status).where(Offer.id == offer["id"])
        ).scalar_one()
        _refuse_by_status(typed, now_status)
        raise OfferRefused(Refusal.USED_UP, typed, "every use of this offer is spent")
    discount = _discount(dict(offer), dict(order))
    connection.execute(
        insert(OfferRedemption).values(
            offer_id=offer["id"],
            order_id=order_id,
            customer_id=order["customer_id"],
            discount_minor=discount,
            redeemed_at=now,
        )
    )
    detail = {
        "offer_id": int(offer["id"]),
        "code": typed,
        "order_id": order_id,
        "playbook": offer["playbook"],
    }
    connection.execute(
        insert(CustomerEvent).values(
            at=now,
            customer_id=order["customer_id"],
            kind=EventKind.OFFER_REDEEMED.value,
            parameters=detail,
        )
    )
    if actor is not None:
        audit.record(
            connection,
            actor,
            "offer.redeem",
            customer_id=int(order["customer_id"]),
            detail=detail,
            at=now,
        )
    return {
        **detail,
        "customer_id": int(order["customer_id"]),
        "uses": used,
        "max_uses": int(offer["max_uses"]),
        "status": OfferStatus.REDEEMED.value if used >= offer["max_uses"] else offer["status"],
        "discount_minor": discount,
        "redeemed_at": now,
    }


def record_refusal(
    connection: Connection, customer_id: int, order_id: int, refused: OfferRefused, at: datetime
) -> None:
    """A coupon an order carried that could not be honoured, on the customer's timeline
    (the order itself is kept: the shop took it)."""
    connection.execute(
        insert(CustomerEvent).values(
            at=at,
            customer_id=customer_id,
            kind=EventKind.OFFER_REFUSED.value,
            parameters={
                "code": refused.code[:60],
                "order_id": order_id,
                "reason": refused.reason.value,
                "message": refused.message,
            },
        )
    )


def _check(connection: Connection, offer: dict[str, Any], order: dict[str, Any]) -> None:
    code = offer["code"]
    _refuse_by_status(code, offer["status"])
    if offer["issued_at"] is not None and order["ordered_at"] < offer["issued_at"]:
        raise OfferRefused(
            Refusal.NOT_ISSUED, code, "the order was placed before the offer was sent"
        )
    if offer["expires_at"] is not None and order["ordered_at"] >= offer["expires_at"]:
        raise OfferRefused(
            Refusal.EXPIRED, code, f"it expired at {offer['expires_at']:%Y-%m-%d %H:%M} UTC"
        )
    owner = live_profile(connection, int(offer["customer_id"]))
    buyer = live_profile(connection, int(order["customer_id"]))
    if owner != buyer:  # merged profiles are one person: their offers are theirs
        raise OfferRefused(
            Refusal.OTHER_CUSTOMER, code, "it was given to another customer than this order's"
        )
    if offer["currency"] and offer["currency"] != order["currency"]:
        raise OfferRefused(
            Refusal.OTHER_CURRENCY,
            code,
            f"it is in {offer['currency']}, the order in {order['currency']}",
        )
    minimum = offer["min_order_minor"]
    before_discount = int(order["amount_minor"]) + int(order["discount_minor"] or 0)
    if minimum is not None and before_discount < minimum:
        raise OfferRefused(
            Refusal.BELOW_MINIMUM,
            code,
            f"the order ({before_discount} minor units before discount) is below the "
            f"minimum of {minimum}",
        )
    already = connection.execute(
        select(OfferRedemption.id).where(
            OfferRedemption.offer_id == offer["id"], OfferRedemption.order_id == order["id"]
        )
    ).first()
    if already is not None:
        raise OfferRefused(
            Refusal.ALREADY_USED_FOR_ORDER, code, f"it was already used for order {order['id']}"
        )


def _refuse_by_status(code: str, status: str) -> None:
    if status == OfferStatus.RESERVED.value:
        raise OfferRefused(Refusal.NOT_ISSUED, code, "its message has not been sent yet")
    if status == OfferStatus.EXPIRED.value:
        raise OfferRefused(Refusal.EXPIRED, code, "it has expired")
    if status == OfferStatus.VOID.value:
        raise OfferRefused(Refusal.VOID, code, "it was voided")
    if status == OfferStatus.REDEEMED.value:
        raise OfferRefused(Refusal.USED_UP, code, "every use of this offer is spent")


def _discount(offer: dict[str, Any], order: dict[str, Any]) -> int | None:
    """What the offer took off this order: what the shop reported as its discount, else
    what the offer's terms give on the order's amount (None for a gift)."""
    if order["discount_minor"]:
        return int(order["discount_minor"])
    if offer["percent_off"] is not None:
        share = Decimal(str(offer["percent_off"])) / 100
        return int((Decimal(int(order["amount_minor"])) * share).to_integral_value())
    if offer["amount_minor"] is not None:
        return min(int(offer["amount_minor"]), int(order["amount_minor"]))
    return None
