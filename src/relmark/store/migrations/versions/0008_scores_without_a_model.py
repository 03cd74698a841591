"""scores without a model: model values may be empty, the run says why and how it chose

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

#: customer_scores columns only a fitted model can fill.
MODEL_VALUES = (
    ("p_alive", sa.Float()),
    ("expected_purchases", sa.Float()),
    ("expected_spend_minor", sa.BigInteger()),
    ("clv_minor", sa.BigInteger()),
)


def upgrade() -> None:
    with op.batch_alter_table("score_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "selection",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("p_alive_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("clv_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("customer_scores", schema=None) as batch_op:
        for name, kind in MODEL_VALUES:
            batch_op.alter_column(name, existing_type=kind, nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("customer_scores", schema=None) as batch_op:
        for name, kind in MODEL_VALUES:
            batch_op.alter_column(name, existing_type=kind, nullable=False)
    with op.batch_alter_table("score_runs", schema=None) as batch_op:
        batch_op.drop_column("clv_reason")
        batch_op.drop_column("p_alive_reason")
        batch_op.drop_column("selection")
