"""Rewarding referrals once the referee's order can no longer come back.

Idempotent and safe with several engines: every pending referral is checked again (a merge
or a refund since attribution rejects it, with the reason), and one past the return window
is claimed by a conditional update (pending → rewarded) before its offer is written, so a
concurrent run finds nothing left to claim.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from relmark.store import audit
from relmark.store import referral_rules as rules
from relmark.store.audit import Actor
from relmark.store.models import Order
from relmark.store.offer_codes import new_code
from relmark.store.offer_models import Offer, OfferKind, OfferStatus
from relmark.store.referral_models import Referral, ReferralStatus

REWARD_PREFIX = "THANKS"


@dataclass(frozen=True)
class RewardTerms:
    """What the referral playbook promises the referrer, and when it is due."""

    percent_off: float
    return_window: timedelta
    valid_for: timedelta | None


@dataclass
class RewardReport:
    rewarded: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    waiting: int = 0
    offers: list[str] = field(default_factory=list)
    owners: list[tuple[int, int]] = field(default_factory=list)
    """(referral id, live referrer id) of each referral this run rewarded: what follows a
    reward (the loyalty programme's referral points) goes with these and only these."""

    def summary(self) -> str:
        rejected = sum(self.rejected.values())
        return (
            f"referrals: {self.rewarded} rewarded, {rejected} rejected, "
            f"{self.waiting} inside the return window"
        )


def reward_due(
    connection: Connection, terms: RewardTerms, now: datetime, actor: Actor
) -> RewardReport:
    """Decide every pending referral: reject what breaks a rule, reward what is past the
    referee order's return window, leave the rest pending. Set-based: a few statements per
    500 referrals, plus an audit entry for each decision."""
    report = RewardReport()
    pending = connection.execute(
        select(Referral.id, Order.ordered_at)
        .join(Order, Order.id == Referral.order_id)
        .where(Referral.status == ReferralStatus.PENDING.value)
    ).all()
    # a referee still unknown past the window (no e-mail, no phone) is judged unreachable;
    # inside it, a tracking identify may yet bring their e-mail
    ripe = {int(r.id) for r in pending if r.ordered_at + terms.return_window <= now}
    decided = rules.verdicts(connection, [int(r.id) for r in pending], contact_required=ripe)
    for reason in sorted({r for r in decided.values() if r is not None}):
        ids = [i for i, r in decided.items() if r == reason]
        for referral_id, referrer_id in _decide(
            connection, ids, now, status=ReferralStatus.REJECTED.value, reason=reason.value
        ):
            report.rejected[reason.value] = report.rejected.get(reason.value, 0) + 1
            audit.record(
                connection,
                actor,
                "referral.rejected",
                customer_id=referrer_id,
                detail={"referral_id": referral_id, "reason": reason.value},
                at=now,
            )
    due = [int(r.id) for r in pending if decided.get(int(r.id)) is None]
    report.waiting = len([i for i in due if i not in ripe])
    claimed = _decide(
        connection,
        [i for i in due if i in ripe],
        now,
        status=ReferralStatus.REWARDED.value,
        referee_percent=terms.percent_off,
    )
    live = rules.live_ids(connection, [referrer for _id, referrer in claimed])
    owners = [(referral_id, live.get(referrer, referrer)) for referral_id, referrer in claimed]
    offers = _issue_offers(connection, [owner for _id, owner in owners], terms, now)
    if owners:
        connection.execute(
            update(Referral)
            .where(Referral.id == bindparam("referral"))
            .values(reward_offer_id=bindparam("offer")),
            [
                {"referral": referral_id, "offer": offer_id}
                for (referral_id, _owner), (offer_id, _code) in zip(owners, offers, strict=True)
            ],
        )
    for (referral_id, owner), (offer_id, code) in zip(owners, offers, strict=True):
        audit.record(
            connection,
            actor,
            "referral.rewarded",
            customer_id=owner,
            detail={"referral_id": referral_id, "offer_id": offer_id, "percent": terms.percent_off},
            at=now,
        )
        report.offers.append(code)
    report.rewarded = len(owners)
    report.owners = owners
    return report


def _decide(
    connection: Connection, ids: list[int], now: datetime, **values: Any
) -> list[tuple[int, int]]:
    """Pending → `values` for `ids`: (referral id, referrer id) of those this call moved (a
    concurrent run that moved one first keeps it: the conditional update is the claim)."""
    moved: list[tuple[int, int]] = []
    for chunk in rules.chunks(ids):
        moved += [
            (int(referral_id), int(referrer_id))
            for referral_id, referrer_id in connection.execute(
                update(Referral)
                .where(Referral.id.in_(chunk), Referral.status == ReferralStatus.PENDING.value)
                .values(decided_at=now, **values)
                .returning(Referral.id, Referral.referrer_id)
            )
        ]
    return sorted(moved)


def _issue_offers(
    connection: Connection, owners: list[int], terms: RewardTerms, now: datetime
) -> list[tuple[int, str]]:
    """One issued discount offer per owner, in order: (offer id, code). All at once; a
    drawn code already taken (31^8 per prefix: rare) makes them go one by one."""
    if not owners:
        return []
    rows = [_offer_row(owner, terms, now) for owner in owners]
    statement = insert(Offer).returning(Offer.id, Offer.code, sort_by_parameter_order=True)
    try:
        with connection.begin_nested():
            return [(int(i), str(c)) for i, c in connection.execute(statement, rows)]
    except IntegrityError:
        return [_issue_offer(connection, owner, terms, now) for owner in owners]


def _offer_row(customer_id: int, terms: RewardTerms, now: datetime) -> dict[str, Any]:
    return {
        "code": new_code(REWARD_PREFIX),
        "kind": OfferKind.REFERRAL_REWARD.value,
        "status": OfferStatus.ISSUED.value,
        "customer_id": customer_id,
        "message_id": None,
        "playbook": "referral",
        "percent_off": terms.percent_off,
        "amount_minor": None,
        "currency": None,
        "gift": None,
        "cost_minor": None,
        "min_order_minor": None,
        "max_uses": 1,
        "uses": 0,
        "created_at": now,
        "issued_at": now,
        "expires_at": now + terms.valid_for if terms.valid_for else None,
        "closed_at": None,
        "close_reason": None,
        "fulfilled_at": None,
        "fulfilled_order_id": None,
    }


def _issue_offer(
    connection: Connection, customer_id: int, terms: RewardTerms, now: datetime
) -> tuple[int, str]:
    while True:
        row = _offer_row(customer_id, terms, now)
        try:
            with connection.begin_nested():
                offer_id = connection.execute(insert(Offer).returning(Offer.id), [row]).scalar_one()
            return int(offer_id), row["code"]
        except IntegrityError:
            continue
