"""The loyalty programme: points earned from orders and occasions, spent on catalogue
rewards, expired and reversed through an immutable ledger (store/loyalty_ledger.py), tiers
and a liability report for finance. The rules live in an editable TOML file."""

from relmark.interact.loyalty.liability import liability_report, member_card
from relmark.interact.loyalty.posting import PostingReport, is_enabled, run_posting
from relmark.interact.loyalty.programme import ENABLED_KEY, Programme, load_programme
from relmark.interact.loyalty.rewards import grant, post_referral_bonus, redeem

__all__ = [
    "ENABLED_KEY",
    "PostingReport",
    "Programme",
    "grant",
    "is_enabled",
    "liability_report",
    "load_programme",
    "member_card",
    "post_referral_bonus",
    "redeem",
    "run_posting",
]
