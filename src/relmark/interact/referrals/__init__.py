"""Referrals as the referral playbook promises them: "they get 10% off their first order,
and you get the same on your next one". The referee's share is the referral code itself on
their first order; the referrer's is a discount offer issued once that order is past its
return window (store/referral_rewards.py does the deciding; this reads the promise)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, select

from relmark.config import Settings
from relmark.interact.playbook import Playbook
from relmark.store.audit import Actor
from relmark.store.referral_rewards import RewardReport, RewardTerms, reward_due

#: What the shipped referral playbook promises, for a store whose playbooks name no percent.
DEFAULT_PERCENT = 10.0


def reward_terms(playbooks: list[Playbook], settings: Settings) -> RewardTerms:
    """The percent the referral template's playbook offers, and the windows from settings."""
    book = next((b for b in playbooks if b.template == "referral"), None)
    percent = DEFAULT_PERCENT
    if book is not None and book.offer is not None and book.offer.percent_off is not None:
        percent = float(book.offer.percent_off)
    return RewardTerms(
        percent_off=percent,
        return_window=timedelta(days=settings.referral_return_window_days),
        valid_for=timedelta(days=settings.referral_reward_valid_days),
    )


def reward_referrals(
    engine: Engine, playbooks: list[Playbook], settings: Settings, now: datetime, actor: Actor
) -> RewardReport:
    """Reject, reward or leave pending every pending referral, in one transaction."""
    terms = reward_terms(playbooks, settings)
    with engine.begin() as connection:
        report = reward_due(connection, terms, now, actor)
        if report.owners:
            _referral_points(connection, settings, report.owners, now)
        return report


def _referral_points(
    connection: Connection, settings: Settings, owners: list[tuple[int, int]], now: datetime
) -> None:
    """The loyalty programme's referral points for the referrals rewarded in this run, each
    to its live referrer (once per referral; none for an erased referrer; nothing when the
    programme is off or gives none). Referrals rewarded in earlier runs, or while the
    programme was off, are never revisited."""
    from relmark.interact.loyalty import is_enabled, load_programme, post_referral_bonus
    from relmark.store.models import Customer
    from relmark.store.referral_rules import chunks

    if not is_enabled(connection):
        return
    programme = load_programme(settings.loyalty_file)
    if programme.referral_points <= 0:
        return
    erased: set[int] = set()
    for chunk in chunks(owner for _id, owner in owners):
        erased |= set(
            connection.execute(
                select(Customer.id).where(Customer.id.in_(chunk), Customer.erased_at.is_not(None))
            ).scalars()
        )
    for referral_id, owner in owners:
        if owner not in erased:
            post_referral_bonus(
                connection, programme, owner, f"referral:{referral_id}:referrer", now
            )
