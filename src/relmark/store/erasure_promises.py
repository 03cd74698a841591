"""Erasure of what a person was promised: their open codes stop working, and the free text
staff or a shop wrote about their offers and points goes (it may name the person). Split
from store/erasure.py, which calls it inside the erasure's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select, update

from relmark.store import offers
from relmark.store.loyalty_models import LoyaltyEntry
from relmark.store.offer_models import Offer
from relmark.store.offer_webhook_models import OfferWebhook
from relmark.store.personal_data import ERASED


def erase_promises(connection: Connection, ids: list[int], now: datetime) -> dict[str, int]:
    """Void the open offers of the profiles `ids`, replace the reasons typed about their
    offers and points, and clear their shop webhooks' errors; rows changed per table."""
    voided = offers.void_open_of(connection, ids, ERASED, now)
    connection.execute(
        update(Offer)
        .where(Offer.customer_id.in_(ids), Offer.close_reason.is_not(None))
        .values(close_reason=ERASED)  # why someone voided one may name the person
    )
    reasons = connection.execute(
        update(LoyaltyEntry)
        .where(LoyaltyEntry.customer_id.in_(ids), LoyaltyEntry.reason.is_not(None))
        .values(reason=ERASED)  # a manual grant's reason, typed by staff
    )
    their_offers = select(Offer.id).where(Offer.customer_id.in_(ids))
    errors = connection.execute(
        update(OfferWebhook)
        .where(OfferWebhook.offer_id.in_(their_offers), OfferWebhook.last_error.is_not(None))
        .values(last_error=None)  # the shop's answer may quote the payload's ids
    )
    return {
        "offers": voided,
        "loyalty_entries": int(reasons.rowcount or 0),
        "offer_webhooks": int(errors.rowcount or 0),
    }
