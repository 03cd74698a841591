"""offer_webhooks: the durable queue of the shop's offer events

Revision ID: 0021
Revises: 0019
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from relmark.store.types import UTCDateTime

revision = "0021"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "offer_webhooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offers.id"], name=op.f("fk_offer_webhooks_offer_id_offers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_webhooks")),
        sa.UniqueConstraint("offer_id", "event", name=op.f("uq_offer_webhooks_offer_id")),
    )
    op.create_index(
        "ix_offer_webhooks_status_next", "offer_webhooks", ["status", "next_attempt_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_offer_webhooks_status_next", table_name="offer_webhooks")
    op.drop_table("offer_webhooks")
