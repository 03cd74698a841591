"""The shop's webhook events about offers, as a durable queue: one row per (offer, event).

A row is written before anything is sent and marked delivered only after the shop answered
2xx, so a crash or a down endpoint loses nothing; the unique (offer, event) pair means an
event is queued once however often the queue is filled, and its idempotency key (the code
and the event) lets the shop recognise the one event a killed sender may have sent twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from relmark.store.models import Base
from relmark.store.types import UTCDateTime


class OfferWebhook(Base):
    __tablename__ = "offer_webhooks"
    __table_args__ = (
        UniqueConstraint("offer_id", "event"),
        Index("ix_offer_webhooks_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"))
    event: Mapped[str] = mapped_column(String(20))
    """offer.issued, offer.redeemed, offer.expired or offer.voided."""
    status: Mapped[str] = mapped_column(String(12))
    """pending → sending → delivered, or failed after the last attempt."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
