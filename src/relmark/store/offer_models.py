"""The promises messages make, as records: offers (discount codes, gifts, referral and points
rewards) and their redemptions.

An offer is reserved when a message that carries it is composed (so the code in the mail is
the stored one), issued when that message is sent, and then redeemed, expired or voided. The
code is unique across the store; a redemption names the order that used it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from relmark.store.models import Base
from relmark.store.types import UTCDateTime


class OfferKind(StrEnum):
    DISCOUNT = "discount"  # a code worth a percentage or an amount off an order
    GIFT = "gift"  # something from the gift catalogue that travels with an order
    REFERRAL_REWARD = "referral_reward"  # what a referrer or referee gets
    POINTS_REWARD = "points_reward"  # a reward bought with loyalty points


class OfferStatus(StrEnum):
    RESERVED = "reserved"  # rendered into a message that has not gone out yet
    ISSUED = "issued"
    REDEEMED = "redeemed"  # every allowed use spent
    EXPIRED = "expired"
    VOID = "void"


class Offer(Base):
    __tablename__ = "offers"
    __table_args__ = (
        Index("ix_offers_customer", "customer_id", "created_at"),
        Index("ix_offers_status_expires", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), unique=True)
    playbook: Mapped[str | None] = mapped_column(String(100))
    percent_off: Mapped[float | None] = mapped_column(Numeric(5, 2))
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    gift: Mapped[str | None] = mapped_column(String(200))
    """The gift catalogue's key for a gift offer."""
    cost_minor: Mapped[int | None] = mapped_column(BigInteger)
    """What honouring it costs the shop, where known (a gift at cost)."""
    min_order_minor: Mapped[int | None] = mapped_column(BigInteger)
    max_uses: Mapped[int] = mapped_column(Integer, default=1)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    close_reason: Mapped[str | None] = mapped_column(String(200))
    fulfilled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fulfilled_order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))


class OfferRedemption(Base):
    """One use of an offer by one order (a multi-use code has several)."""

    __tablename__ = "offer_redemptions"
    __table_args__ = (UniqueConstraint("offer_id", "order_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    discount_minor: Mapped[int | None] = mapped_column(BigInteger)
    redeemed_at: Mapped[datetime] = mapped_column(UTCDateTime)
