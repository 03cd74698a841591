"""offers and offer_redemptions: every promise a sent message makes is a record

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from relmark.store.types import UTCDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("playbook", sa.String(length=100), nullable=True),
        sa.Column("percent_off", sa.Numeric(5, 2), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("gift", sa.String(length=200), nullable=True),
        sa.Column("cost_minor", sa.BigInteger(), nullable=True),
        sa.Column("min_order_minor", sa.BigInteger(), nullable=True),
        sa.Column("max_uses", sa.Integer(), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("issued_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("close_reason", sa.String(length=200), nullable=True),
        sa.Column("fulfilled_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("fulfilled_order_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_offers_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_offers_message_id_messages")
        ),
        sa.ForeignKeyConstraint(
            ["fulfilled_order_id"],
            ["orders.id"],
            name=op.f("fk_offers_fulfilled_order_id_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
        sa.UniqueConstraint("code", name=op.f("uq_offers_code")),
        sa.UniqueConstraint("message_id", name=op.f("uq_offers_message_id")),
    )
    op.create_index("ix_offers_customer", "offers", ["customer_id", "created_at"])
    op.create_index("ix_offers_status_expires", "offers", ["status", "expires_at"])
    op.create_table(
        "offer_redemptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("discount_minor", sa.BigInteger(), nullable=True),
        sa.Column("redeemed_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offers.id"], name=op.f("fk_offer_redemptions_offer_id_offers")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_offer_redemptions_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_offer_redemptions_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_redemptions")),
        sa.UniqueConstraint("offer_id", "order_id", name=op.f("uq_offer_redemptions_offer_id")),
    )
    op.create_index(op.f("ix_offer_redemptions_order_id"), "offer_redemptions", ["order_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_offer_redemptions_order_id"), table_name="offer_redemptions")
    op.drop_table("offer_redemptions")
    op.drop_index("ix_offers_status_expires", table_name="offers")
    op.drop_index("ix_offers_customer", table_name="offers")
    op.drop_table("offers")
