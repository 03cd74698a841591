"""The gift pick list and its fulfilment: the warehouse's view of gift offers.

A gift offer promises "a small surprise will travel with your next order". Until it is
marked fulfilled with the order that carried it, it is on the pick list with the customer's
name and address, the gift and since when it is owed; `due` ones already have an order
placed after the gift was issued, so the gift can go with it. Restricted customers are left
out (processing is restricted: nothing is sent them) and so are erased ones.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text, update

from relmark.errors import InvalidInput
from relmark.store import audit
from relmark.store.audit import Actor
from relmark.store.live import live_id_of, live_profile, with_merged_live
from relmark.store.offer_codes import normalise
from relmark.store.offer_models import Offer
from relmark.store.types import UTCDateTime

MAX_ROWS = 10_000


class UnknownCode(InvalidInput):
    """No offer has this code (an API answers 404)."""


#: The earliest completed order of the live customer after the gift was issued (a merge
#: moves the absorbed profiles' orders to the survivor).
_NEXT_ORDER = (
    "(SELECT {column} FROM orders n WHERE n.customer_id = l.id AND n.status = 'completed' "
    "AND n.ordered_at > o.issued_at ORDER BY n.ordered_at, n.id LIMIT 1)"
)


def pick_list(
    connection: Connection, *, due_only: bool = False, limit: int = 500, offset: int = 0
) -> tuple[int, list[dict[str, Any]]]:
    """(how many, a page of) issued, unfulfilled gifts, owed longest first."""
    where = (
        "o.kind = 'gift' AND o.status = 'issued' AND o.fulfilled_at IS NULL "
        "AND l.restricted_at IS NULL AND l.erased_at IS NULL"
    )
    if due_only:
        where += " AND " + _NEXT_ORDER.format(column="n.id") + " IS NOT NULL"
    source = (
        "FROM offers o LEFT JOIN merged_live ml ON ml.start_id = o.customer_id "
        f"JOIN customers l ON l.id = {live_id_of('o.customer_id')} WHERE {where}"
    )
    total = int(
        connection.execute(text(with_merged_live(f"SELECT COUNT(*) {source}"))).scalar_one()
    )
    statement = text(
        with_merged_live(
            "SELECT o.code, o.gift, o.issued_at, o.expires_at, l.id AS customer_id, "
            "l.first_name, l.last_name, l.address, l.postcode, l.city, l.region, l.country, "
            f"l.language, {_NEXT_ORDER.format(column='n.id')} AS next_order_id, "
            f"{_NEXT_ORDER.format(column='n.external_id')} AS next_order, "
            f"{_NEXT_ORDER.format(column='n.ordered_at')} AS next_order_at "
            f"{source} ORDER BY o.issued_at, o.id LIMIT :limit OFFSET :offset"
        )
    ).columns(issued_at=UTCDateTime(), expires_at=UTCDateTime(), next_order_at=UTCDateTime())
    rows = connection.execute(statement, {"limit": min(limit, MAX_ROWS), "offset": offset})
    return total, [dict(r) for r in rows.mappings()]


def open_counts(connection: Connection) -> dict[str, int]:
    """Gifts owed (issued, not fulfilled) per gift key: what the shelf must hold."""
    rows = connection.execute(
        text(
            "SELECT gift, COUNT(*) FROM offers WHERE kind = 'gift' AND status = 'issued' "
            "AND fulfilled_at IS NULL GROUP BY gift"
        )
    )
    return {str(gift): int(n) for gift, n in rows}


def fulfil(
    connection: Connection, code: str, order: str, now: datetime, actor: Actor
) -> dict[str, Any]:
    """Record that the gift `code` travelled with `order` (the shop's order number, or
    relmark's order id): refused with the reason when the code is unknown, not a gift, not
    open, already fulfilled, or the order is not this customer's or came before the gift."""
    wanted = normalise(code)
    offer = (
        connection.execute(
            text(
                "SELECT o.id, o.code, o.kind, o.status, o.issued_at, o.fulfilled_at, "
                "o.fulfilled_order_id, o.customer_id FROM offers o WHERE o.code = :code"
            ).columns(issued_at=UTCDateTime(), fulfilled_at=UTCDateTime()),
            {"code": wanted},
        )
        .mappings()
        .first()
    )
    if offer is None:
        raise UnknownCode.single("code", f"no offer has the code {wanted}")
    if offer["kind"] != "gift":
        raise InvalidInput.single("code", f"{wanted} is a {offer['kind']} offer, not a gift")
    if offer["fulfilled_at"] is not None:
        raise InvalidInput.single(
            "code", f"{wanted} was already fulfilled with order id {offer['fulfilled_order_id']}"
        )
    if offer["status"] != "issued":
        raise InvalidInput.single("code", f"{wanted} is {offer['status']}, not owed any more")
    owner = live_profile(connection, offer["customer_id"]) or offer["customer_id"]
    order_row = _order(connection, order, owner)
    if offer["issued_at"] is not None and order_row["ordered_at"] < offer["issued_at"]:
        raise InvalidInput.single(
            "--order", f"order {order} was placed before the gift was promised"
        )
    done = connection.execute(
        update(Offer)
        .where(Offer.id == offer["id"], Offer.fulfilled_at.is_(None), Offer.status == "issued")
        # Kept: the gift went with the order, so the promise is closed (no expiry job or
        # second order can reopen it).
        .values(
            fulfilled_at=now,
            fulfilled_order_id=order_row["id"],
            status="redeemed",
            uses=Offer.uses + 1,
            closed_at=now,
        )
    )
    if done.rowcount != 1:  # fulfilled by someone else meanwhile
        raise InvalidInput.single("code", f"{wanted} was fulfilled meanwhile")
    audit.record(
        connection,
        actor,
        "gift.fulfil",
        customer_id=owner,
        detail={"offer_id": offer["id"], "order_id": order_row["id"]},
        at=now,
    )
    return {"code": wanted, "order_id": order_row["id"], "fulfilled_at": now}


def _order(connection: Connection, order: str, customer_id: int) -> dict[str, Any]:
    """The customer's order by the shop's number, else by relmark's id."""
    order = order.strip()
    if not order or len(order) > 200:
        raise InvalidInput.single("--order", "name the order that carried the gift")
    statement = text(
        with_merged_live(
            "SELECT o.id, o.ordered_at, o.customer_id FROM orders o "
            "LEFT JOIN merged_live ml ON ml.start_id = o.customer_id "
            f"WHERE {live_id_of('o.customer_id')} = :customer "
            "AND (o.external_id = :order OR o.id = :number) "
            "ORDER BY CASE WHEN o.external_id = :order THEN 0 ELSE 1 END, o.id LIMIT 1"
        )
    ).columns(ordered_at=UTCDateTime())
    number = int(order) if order.isdigit() and int(order) < 2**31 else -1
    row = (
        connection.execute(statement, {"customer": customer_id, "order": order, "number": number})
        .mappings()
        .first()
    )
    if row is None:
        raise InvalidInput.single(
            "--order", f"the gift's customer has no order {order} (the shop's number or id)"
        )
    return dict(row)
