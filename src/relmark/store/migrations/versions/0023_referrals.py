"""referral_codes, referral_touches and referrals: each customer's code, the `?ref=` a
visitor arrived with, and each attributed first order with its fraud verdict

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from relmark.store.types import UTCDateTime

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "referral_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_referral_codes_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_codes")),
        sa.UniqueConstraint("code", name=op.f("uq_referral_codes_code")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_referral_codes_customer_id")),
    )
    op.create_table(
        "referral_touches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_record_id", sa.Integer(), nullable=False),
        sa.Column("code_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_record_id"],
            ["source_records.id"],
            name=op.f("fk_referral_touches_source_record_id_source_records"),
        ),
        sa.ForeignKeyConstraint(
            ["code_id"],
            ["referral_codes.id"],
            name=op.f("fk_referral_touches_code_id_referral_codes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_touches")),
        sa.UniqueConstraint("source_record_id", name=op.f("uq_referral_touches_source_record_id")),
    )
    op.create_table(
        "referrals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_id", sa.Integer(), nullable=False),
        sa.Column("referrer_id", sa.Integer(), nullable=False),
        sa.Column("referee_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("via", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("referee_percent", sa.Numeric(5, 2), nullable=True),
        sa.Column("referee_discount_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("reward_offer_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["code_id"], ["referral_codes.id"], name=op.f("fk_referrals_code_id_referral_codes")
        ),
        sa.ForeignKeyConstraint(
            ["referrer_id"], ["customers.id"], name=op.f("fk_referrals_referrer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["referee_id"], ["customers.id"], name=op.f("fk_referrals_referee_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_referrals_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["reward_offer_id"], ["offers.id"], name=op.f("fk_referrals_reward_offer_id_offers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
        sa.UniqueConstraint("order_id", name=op.f("uq_referrals_order_id")),
        sa.UniqueConstraint("reward_offer_id", name=op.f("uq_referrals_reward_offer_id")),
    )
    op.create_index("ix_referrals_referrer_status", "referrals", ["referrer_id", "status"])
    op.create_index("ix_referrals_status_created", "referrals", ["status", "created_at"])
    op.create_index(op.f("ix_referrals_referee_id"), "referrals", ["referee_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_referrals_referee_id"), table_name="referrals")
    op.drop_index("ix_referrals_status_created", table_name="referrals")
    op.drop_index("ix_referrals_referrer_status", table_name="referrals")
    op.drop_table("referrals")
    op.drop_table("referral_touches")
    op.drop_table("referral_codes")
