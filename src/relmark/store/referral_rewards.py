"""Rewarding referrals once the referee's order can no longer come back.

Idempotent and safe with several engines: every pending referral is checked again (a merge
or a refund since attribution rejects it, with the reason), and one past the return window
is claimed by a conditional update (pending → rewarded) before its offer is written, so a
concurrent run finds nothing left to claim.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from relmark.store import audit
from relmark.store.audit import Actor
from relmark.store.live import live_profile
from relmark.store.models import Order
from relmark.store.offer_codes import new_code
from relmark.store.offer_models import Offer, OfferKind, OfferStatus
from relmark.store.referral_models import Referral, ReferralStatus
from relmark.store.referrals import reject, verdict

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
    referee order's return window, leave the rest pending."""
    report = RewardReport()
    pending = connection.execute(
        select(Referral.id, Referral.referrer_id, Order.ordered_at)
        .join(Order, Order.id == Referral.order_id)
        .where(Referral.status == ReferralStatus.PENDING.value)
        .order_by(Referral.id)
    ).all()
    for referral_id, referrer_id, ordered_at in pending:
        reason = verdict(connection, int(referral_id))
        if reason is not None:
            if reject(connection, int(referral_id), reason, now):
                report.rejected[reason.value] = report.rejected.get(reason.value, 0) + 1
                audit.record(
                    connection,
                    actor,
                    "referral.rejected",
                    customer_id=live_profile(connection, int(referrer_id)),
                    detail={"referral_id": int(referral_id), "reason": reason.value},
                    at=now,
                )
            continue
        if ordered_at + terms.return_window > now:
            report.waiting += 1
            continue
        code = _reward(connection, int(referral_id), int(referrer_id), terms, now, actor)
        if code is not None:
            report.rewarded += 1
            report.offers.append(code)
    return report


def _reward(
    connection: Connection,
    referral_id: int,
    referrer_id: int,
    terms: RewardTerms,
    now: datetime,
    actor: Actor,
) -> str | None:
    claimed = connection.execute(
        update(Referral)
        .where(Referral.id == referral_id, Referral.status == ReferralStatus.PENDING.value)
        .values(
            status=ReferralStatus.REWARDED.value,
            decided_at=now,
            referee_percent=terms.percent_off,
        )
    )
    if not claimed.rowcount:
        return None  # another run decided it
    owner = live_profile(connection, referrer_id) or referrer_id
    offer_id, code = _issue_offer(connection, owner, terms, now)
    connection.execute(
        update(Referral).where(Referral.id == referral_id).values(reward_offer_id=offer_id)
    )
    audit.record(
        connection,
        actor,
        "referral.rewarded",
        customer_id=owner,
        detail={"referral_id": referral_id, "offer_id": offer_id, "percent": terms.percent_off},
        at=now,
    )
    return code


def _issue_offer(
    connection: Connection, customer_id: int, terms: RewardTerms, now: datetime
) -> tuple[int, str]:
    while True:  # a drawn code already taken (31^8 per prefix: rare) draws again
        code = new_code(REWARD_PREFIX)
        try:
            with connection.begin_nested():
                offer_id = connection.execute(
                    insert(Offer)
                    .values(
                        code=code,
                        kind=OfferKind.REFERRAL_REWARD.value,
                        status=OfferStatus.ISSUED.value,
                        customer_id=customer_id,
                        playbook="referral",
                        percent_off=terms.percent_off,
                        max_uses=1,
                        uses=0,
                        created_at=now,
                        issued_at=now,
                        expires_at=now + terms.valid_for if terms.valid_for else None,
                    )
                    .returning(Offer.id)
                ).scalar_one()
            return int(offer_id), code
        except IntegrityError:
            continue
