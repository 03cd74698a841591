"""The demo shop keeps its promises over its history, so every offer page shows real figures.

A store built in one go would plan and send once, at its end date: every offer just issued,
nothing redeemed, expired, fulfilled or referred. So the demo also plans and sends in the
past, as of ROUNDS, the playbooks whose mails issue offers as the scores say (the demo scores
as of the first round, so they read what was known then; order and date occasions would read
orders placed after the round and go stale unsent). Then the customers' later demo orders
use the codes they were given, by a mail or for their loyalty points (through the store's
own redemption rule, as a checkout would), gifts travel with a later order (the
warehouse's fulfilment), a few new customers arrive with a friend's referral code
(demo/referrals.py), and, as of the end, unused offers expire and referrers are rewarded.
Which offers are used is drawn from the demo's seed: same seed and date, same store.

Why two rounds, not monthly: sending is most of the demo's time (tens of milliseconds a
mail), and those playbooks repeat quarterly at most (win-back 90 days, the VIP gift 91), so
a monthly round would mostly find nobody due. Half a year before the end and six weeks
before it each reach the whole audience once; the VIP gift (every champion, the biggest
audience) goes out in the later round only. Six weeks leaves its gifts (valid 60 days) open
at the end, some with a later order to travel with, while the discounts (30 days) have run
out. (A sample of the customers would send less, but win-back reaches customers who are
mostly gone for good: only the whole audience gives redemptions to show.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
from sqlalchemy import Connection, Engine, text

from relmark.demo.referrals import refer_friends
from relmark.interact.playbook import TriggerKind
from relmark.interact.referrals import reward_referrals
from relmark.store import gifts, offers
from relmark.store.audit import Actor
from relmark.store.bulk import fetch_frame
from relmark.store.offer_redemption import OfferRefused, redeem

if TYPE_CHECKING:
    from relmark.interaction import Interaction

#: How long before the end the demo planned and sent, oldest first (see the module's notes).
ROUNDS = (timedelta(days=182), timedelta(days=45))
#: Of the offers whose customer ordered again while it was valid, the share whose order
#: carried the code (the rest forgot it, and the offer lapses).
REDEEMED_SHARE = 0.9
#: Of the gifts whose customer ordered again, the share the warehouse packed with that order
#: (the rest stay on the pick list, due).
FULFILLED_SHARE = 0.5

#: Sends what is due as of a moment, returning how many went and how many failed.
Send = Callable[[datetime], tuple[int, int]]


@dataclass
class PromiseReport:
    """What the demo's history did with its promises (the demo's summary prints it)."""

    rounds: list[dict[str, Any]] = field(default_factory=list)
    redeemed: int = 0
    refused: int = 0
    fulfilled: int = 0
    expired: int = 0
    referrals: dict[str, int] = field(default_factory=dict)
    rewarded: int = 0
    rejected: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def rounds(end: datetime) -> list[datetime]:
    """The past moments the demo plans and sends at, oldest first (same time of day as the
    end, when every market is awake)."""
    return [end - before for before in ROUNDS]


def keep_promises(interaction: Interaction, end: datetime, seed: int, send: Send) -> PromiseReport:
    """Plan and send at each past round, then let the later orders use what was promised;
    offers still open at `end` and past their date expire, and referrals are decided."""
    report = PromiseReport()
    books = [
        b
        for b in interaction.enabled_playbooks()
        if b.trigger.on is TriggerKind.SCORE and b.offer is not None and b.offer.issued_at_send
    ]
    for at in rounds(end):
        last = at == rounds(end)[-1]
        planned = held = 0
        for book in books:
            if book.offer is not None and book.offer.kind == "gift" and not last:
                continue  # gifts in the last round only (see the module's notes)
            plan = interaction.plan(at, at, only_playbook=book.name)
            planned, held = planned + plan.planned, held + sum(plan.held.values())
        sent, failed = send(at)
        report.rounds.append(
            {
                "at": at.isoformat(timespec="seconds"),
                "planned": planned,
                "held": held,
                "sent": sent,
                "failed": failed,
            }
        )
    engine: Engine = interaction.engine
    rng = np.random.default_rng([seed, 14])  # the demo's seed; 14: this module's own stream
    with engine.begin() as connection:
        report.redeemed, report.refused = _use_codes(connection, rng)
        report.fulfilled = _fulfil_gifts(connection, rng)
        report.referrals = refer_friends(connection, rng, end - ROUNDS[0], end)
        report.expired = offers.expire(connection, end).expired
    decided = reward_referrals(
        engine, interaction.playbooks(), interaction.effective(), end, Actor.cli()
    )
    report.rewarded, report.rejected = decided.rewarded, dict(decided.rejected)
    return report


_OPEN_OFFERS = (
    "SELECT o.id, o.code, COALESCE(c.merged_into_id, c.id), o.issued_at, o.expires_at, "
    "o.currency FROM offers o JOIN customers c ON c.id = o.customer_id "
    "WHERE o.status = 'issued' AND o.kind {kind}"
)
_OFFER_SCHEMA = {
    "offer_id": pl.Int64,
    "code": pl.String,
    "customer": pl.Int64,
    "issued_at": pl.Datetime("us", "UTC"),
    "expires_at": pl.Datetime("us", "UTC"),
    "currency": pl.String,
}
_COMPLETED_ORDERS = text(
    "SELECT d.id, d.external_id, COALESCE(c.merged_into_id, c.id), d.ordered_at, d.currency "
    "FROM orders d JOIN customers c ON c.id = d.customer_id WHERE d.status = 'completed'"
)
_ORDER_SCHEMA = {
    "order_id": pl.Int64,
    "external_id": pl.String,
    "customer": pl.Int64,
    "ordered_at": pl.Datetime("us", "UTC"),
    "order_currency": pl.String,
}


def _chosen(connection: Connection, kind: str, share: float, rng: np.random.Generator):  # noqa: ANN202
    """Open offers of a kind with the first completed order their (live) customer placed
    while each was valid, oldest offer first; of those a seeded `share` is used, one offer
    per order. A join in Polars: the database would look up each offer's orders one by one."""
    offers = fetch_frame(connection, text(_OPEN_OFFERS.format(kind=kind)), _OFFER_SCHEMA)
    orders = fetch_frame(connection, _COMPLETED_ORDERS, _ORDER_SCHEMA)
    valid = (
        (pl.col("ordered_at") > pl.col("issued_at"))
        & (pl.col("expires_at").is_null() | (pl.col("ordered_at") < pl.col("expires_at")))
        & (pl.col("currency").is_null() | (pl.col("order_currency") == pl.col("currency")))
    )
    found = (
        offers.join(orders, on="customer")
        .filter(valid)
        .sort("offer_id", "ordered_at", "order_id")
        .unique("offer_id", keep="first", maintain_order=True)
    )
    taken = found.filter(pl.Series(rng.random(found.height) < share))
    return taken.unique("order_id", keep="first", maintain_order=True).iter_rows(named=True)


def _use_codes(connection: Connection, rng: np.random.Generator) -> tuple[int, int]:
    """Discount codes typed at the checkout of a later order, redeemed by the store's rule
    at the order's time; (redeemed, refused). None should be refused: the orders were
    chosen to qualify, and a refusal is counted rather than hidden."""
    redeemed = refused = 0
    for row in _chosen(connection, "<> 'gift'", REDEEMED_SHARE, rng):
        try:
            with connection.begin_nested():
                redeem(connection, row["code"], row["order_id"], row["ordered_at"])
        except OfferRefused:
            refused += 1
            continue
        redeemed += 1
    return redeemed, refused


def _fulfil_gifts(connection: Connection, rng: np.random.Generator) -> int:
    """Gifts the warehouse packed with the customer's next order (audited as it is)."""
    fulfilled = 0
    for row in _chosen(connection, "= 'gift'", FULFILLED_SHARE, rng):
        gifts.fulfil(connection, row["code"], row["external_id"], row["ordered_at"], Actor.cli())
        fulfilled += 1
    return fulfilled
