"""What each sent message's offer has cost the shop so far, for the uplift report's cost
and return: a redeemed discount at the discount the order recorded (`discount_minor` of the
redemption), else its percentage of the order's amount, else its fixed amount (at most the
order's); a gift at its cost once it was fulfilled. Offers nobody used cost nothing.
"""

from __future__ import annotations

import polars as pl
from sqlalchemy import Connection, text

from relmark.store.bulk import fetch_frame

SCHEMA = {
    "message_id": pl.Int64,
    "offer_kind": pl.String,
    "gift": pl.String,
    "cost_minor": pl.Int64,
    "cost_currency": pl.String,
    "fulfilled": pl.Boolean,
}

#: One redemption's discount in minor units of its order's currency.
_DISCOUNT = (
    "COALESCE(r.discount_minor, CASE "
    "WHEN o.percent_off IS NOT NULL THEN ROUND(o.percent_off * d.amount_minor / 100.0) "
    "WHEN o.amount_minor < d.amount_minor THEN o.amount_minor ELSE d.amount_minor END)"
)


def message_costs(connection: Connection, playbook: str | None = None) -> pl.DataFrame:
    """Per sent message carrying an offer: its kind, gift key, cost so far (None: a gift
    with no cost on the offer, priced from the catalogue by the caller) and currency."""
    where = "m.status = 'sent'" + (" AND m.playbook = :playbook" if playbook else "")
    statement = text(
        "SELECT o.message_id, o.kind, o.gift, "
        "CASE WHEN o.kind = 'gift' THEN "
        "  CASE WHEN o.fulfilled_at IS NULL THEN 0 ELSE o.cost_minor END "
        f"ELSE CAST(COALESCE((SELECT SUM({_DISCOUNT}) FROM offer_redemptions r "
        "  JOIN orders d ON d.id = r.order_id WHERE r.offer_id = o.id), 0) AS BIGINT) END, "
        "CASE WHEN o.kind = 'gift' THEN o.currency ELSE COALESCE((SELECT MIN(d.currency) "
        "  FROM offer_redemptions r JOIN orders d ON d.id = r.order_id "
        "  WHERE r.offer_id = o.id), o.currency) END, "
        "o.fulfilled_at IS NOT NULL "
        f"FROM offers o JOIN messages m ON m.id = o.message_id WHERE {where}"
    )
    return fetch_frame(connection, statement, SCHEMA, {"playbook": playbook})
