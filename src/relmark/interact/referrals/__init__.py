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
        if report.rewarded:
            _referral_points(connection, settings, now)
        return report


def _referral_points(connection: Connection, settings: Settings, now: datetime) -> None:
    """The loyalty programme's referral points for each rewarded referrer (once per
    referral; nothing when the programme is off or gives none)."""
    from relmark.interact.loyalty import is_enabled, load_programme, post_referral_bonus
    from relmark.store.referral_models import Referral

    if not is_enabled(connection):
        return
    programme = load_programme(settings.loyalty_file)
    if programme.referral_points <= 0:
        return
    rewarded = connection.execute(
        select(Referral.id, Referral.referrer_id).where(Referral.status == "rewarded")
    ).all()
    for referral_id, referrer_id in rewarded:
        post_referral_bonus(
            connection, programme, int(referrer_id), f"referral:{referral_id}:referrer", now
        )
