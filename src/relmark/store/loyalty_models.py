"""The loyalty programme's tables: an append-only points ledger, what each debit consumed,
and one account row per member kept in step with the ledger.

The ledger is the truth: a balance is the sum of a customer's entries. The account row
repeats that sum so a redemption can be one conditional UPDATE (and the CHECK keeps it at
zero or above whatever runs concurrently). Allocations record which earn entries each debit
(redeem, expire, reverse, negative adjust) consumed, earliest-expiring first, so expiry
takes only what is left of each earn entry.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from relmark.store.models import Base
from relmark.store.types import UTCDateTime


class EntryKind(StrEnum):
    EARN = "earn"  # points > 0, carries expires_at
    REDEEM = "redeem"  # points < 0, bought a reward
    EXPIRE = "expire"  # points < 0, what was left of one earn entry at its expiry
    ADJUST = "adjust"  # a manual grant (> 0) or correction (< 0), with a reason
    REVERSE = "reverse"  # points <= 0, an order's points taken back (returned, refunded)


class LoyaltyAccount(Base):
    __tablename__ = "loyalty_accounts"
    __table_args__ = (CheckConstraint("balance >= 0", name="balance_not_negative"),)

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    balance: Mapped[int] = mapped_column(BigInteger)
    tier: Mapped[str | None] = mapped_column(String(40))
    tier_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LoyaltyEntry(Base):
    """One immutable ledger line. `rule` names why (spend, order, birthday, referral, grant,
    a reward's key, reverse, expire); (order_id, rule) and (customer_id, rule, occasion) make
    every automatic posting idempotent."""

    __tablename__ = "loyalty_entries"
    # Keys are partial unique indexes: NULLs never collide anyway, and the million order
    # postings then maintain one key index, not three.
    __table_args__ = (
        Index(
            "uq_loyalty_entries_order_rule",
            "order_id",
            "rule",
            unique=True,
            sqlite_where=text("order_id IS NOT NULL"),
            postgresql_where=text("order_id IS NOT NULL"),
        ),
        Index(
            "uq_loyalty_entries_occasion",
            "customer_id",
            "rule",
            "occasion",
            unique=True,
            sqlite_where=text("occasion IS NOT NULL"),
            postgresql_where=text("occasion IS NOT NULL"),
        ),
        Index(
            "uq_loyalty_entries_expired_entry",
            "expired_entry_id",
            unique=True,
            sqlite_where=text("expired_entry_id IS NOT NULL"),
            postgresql_where=text("expired_entry_id IS NOT NULL"),
        ),
        Index("ix_loyalty_entries_customer_at", "customer_id", "at"),
        # the expiry job and the liability report read only the positive entries
        Index(
            "ix_loyalty_entries_earn_expiry",
            "expires_at",
            sqlite_where=text("points > 0"),
            postgresql_where=text("points > 0"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(12))
    rule: Mapped[str] = mapped_column(String(60))
    points: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    """When the points were earned or spent (an order's time for postings from orders)."""
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    occasion: Mapped[str | None] = mapped_column(String(60))
    """What makes a non-order posting unique: a birthday's year, a referral's id."""
    expired_entry_id: Mapped[int | None] = mapped_column(ForeignKey("loyalty_entries.id"))
    """For an expire entry: the earn entry whose rest it expired (once only)."""
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id"))
    reason: Mapped[str | None] = mapped_column(String(500))
    actor: Mapped[str | None] = mapped_column(String(200))


class LoyaltyAllocation(Base):
    """Points of one earn entry consumed by one debit (append-only)."""

    __tablename__ = "loyalty_allocations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    debit_id: Mapped[int] = mapped_column(ForeignKey("loyalty_entries.id"), index=True)
    earn_id: Mapped[int] = mapped_column(ForeignKey("loyalty_entries.id"), index=True)
    points: Mapped[int] = mapped_column(BigInteger)
