"""Referrals as records: each customer's referral code, the `?ref=` a tracking visitor arrived
with, and each attribution of a new customer's first order to the customer who referred them.

Ids of customers are kept as they were when written; readers follow merges to the live
profile (a referrer who later merged still owns their code, and the survivor keeps its own).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from relmark.store.models import Base
from relmark.store.types import UTCDateTime


class ReferralStatus(StrEnum):
    PENDING = "pending"  # attributed; waiting for the order's return window to pass
    REWARDED = "rewarded"  # the referrer's reward offer was issued
    REJECTED = "rejected"  # a fraud or eligibility rule refused it (`reason` says which)


class ReferralReason(StrEnum):
    """Why a referral was rejected; codes shared by the CLI, the API and the dashboard."""

    SELF_REFERRAL = "self_referral"  # referrer and referee are one person (identity resolution)
    SAME_EMAIL = "same_email"
    SAME_PHONE = "same_phone"
    SAME_ADDRESS = "same_address"
    REFEREE_NOT_NEW = "referee_not_new"  # the referee had ordered before
    ORDER_REFUNDED = "order_refunded"
    ORDER_RETURNED = "order_returned"
    ORDER_CANCELLED = "order_cancelled"
    REFEREE_UNREACHABLE = "referee_unreachable"  # no e-mail, no phone when the reward is due


class ReferralVia(StrEnum):
    COUPON = "coupon"  # an "Order Completed" event's properties.coupon
    LINK = "link"  # `?ref=` or properties.referral_code seen by the tracking endpoint
    IMPORT = "import"  # the order file's referral_code column


class ReferralCode(Base):
    """A customer's own referral code (REF-7KQ2M9TX), created the first time it is needed."""

    __tablename__ = "referral_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReferralTouch(Base):
    """The referral code a tracking user or anonymous visitor first arrived with, kept until
    their first order (which may come days later, after they identified)."""

    __tablename__ = "referral_touches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_record_id: Mapped[int] = mapped_column(ForeignKey("source_records.id"), unique=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("referral_codes.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class Referral(Base):
    """One order attributed to a referral code: pending, then rewarded or rejected (with why)."""

    __tablename__ = "referrals"
    __table_args__ = (
        Index("ix_referrals_referrer_status", "referrer_id", "status"),
        Index("ix_referrals_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("referral_codes.id"))
    referrer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    referee_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    via: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(String(40))
    referee_percent: Mapped[float | None] = mapped_column(Numeric(5, 2))
    """What the code promised the referee on this first order."""
    referee_discount_minor: Mapped[int | None] = mapped_column(BigInteger)
    """The discount the code gave the referee's order (its redemption), in the order's currency."""
    currency: Mapped[str | None] = mapped_column(String(3))
    reward_offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id"), unique=True)
    """The referrer's reward (an offer of kind referral_reward), once issued."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
