"""Referrals as the referral playbook promises them: "they get 10% off their first order,
and you get the same on your next one". The referee's share is the referral code itself on
their first order; the referrer's is a discount offer issued once that order is past its
return window (store/referral_rewards.py does the deciding; this reads the promise)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine

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
        return reward_due(connection, terms, now, actor)
