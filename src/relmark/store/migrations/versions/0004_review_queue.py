"""review queue

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import relmark.store.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_pairs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", relmark.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("customer_a", sa.Integer(), nullable=False),
        sa.Column("customer_b", sa.Integer(), nullable=False),
        sa.Column("probability", sa.Float(), nullable=True),
        sa.Column(
            "evidence",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("decided_at", relmark.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_a"], ["customers.id"], name=op.f("fk_review_pairs_customer_a_customers")
        ),
        sa.ForeignKeyConstraint(
            ["customer_b"], ["customers.id"], name=op.f("fk_review_pairs_customer_b_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_pairs")),
        sa.UniqueConstraint("customer_a", "customer_b", name=op.f("uq_review_pairs_customer_a")),
    )
    with op.batch_alter_table("review_pairs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_pairs_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("review_pairs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_pairs_status"))

    op.drop_table("review_pairs")
