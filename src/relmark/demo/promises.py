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
before it each reach the whole audience once. Six weeks leaves that round's gifts (valid 60
days) open at the end, some with a later order to travel with, while its discounts (30 days)
have run out. (A sample of the customers would send less, but win-back reaches customers
who are mostly gone for good: only the whole audience gives redemptions to show.)
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
        b.name
        for b in interaction.enabled_playbooks()
        if b.trigger.on is TriggerKind.SCORE and b.offer is not None and b.offer.issued_at_send
    ]
    for at in rounds(end):
        planned = held = 0
        for name in books:
            plan = interaction.plan(at, at, only_playbook=name)
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


#: Each open offer of a given kind with the first completed order its (live) customer placed
#: while it was valid, oldest offer first.
_NEXT_ORDERS = text(
    "SELECT o.id AS offer_id, o.code, d.id AS order_id, d.external_id, d.ordered_at "
    "FROM offers o JOIN customers oc ON oc.id = o.customer_id "
    "JOIN orders d ON d.id = ("
    "  SELECT n.id FROM orders n JOIN customers nc ON nc.id = n.customer_id "
    "  WHERE COALESCE(nc.merged_into_id, nc.id) = COALESCE(oc.merged_into_id, oc.id) "
    "  AND n.status = 'completed' AND n.ordered_at > o.issued_at "
    "  AND (o.expires_at IS NULL OR n.ordered_at < o.expires_at) "
    "  AND (o.currency IS NULL OR n.currency = o.currency) "
    "  ORDER BY n.ordered_at, n.id LIMIT 1) "
    "WHERE o.status = 'issued' AND o.kind {kind} "
    "ORDER BY o.id"
)
_SCHEMA = {
    "offer_id": pl.Int64,
    "code": pl.String,
    "order_id": pl.Int64,
    "external_id": pl.String,
    "ordered_at": pl.Datetime("us", "UTC"),
}


def _chosen(connection: Connection, kind: str, share: float, rng: np.random.Generator):  # noqa: ANN202
    """The offers whose next order carries them: a seeded `share`, one offer per order."""
    found = fetch_frame(connection, text(_NEXT_ORDERS.text.format(kind=kind)), _SCHEMA)
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
