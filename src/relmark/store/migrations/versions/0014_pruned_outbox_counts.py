"""pruned_messages: the counts of held outbox rows pruned, per plan run, playbook and
reason; an index on source_records.updated_at for incremental identity

Revision ID: 0014
Revises: 0012
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from relmark.store.types import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pruned_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_run_id", sa.Integer(), nullable=True),
        sa.Column("playbook", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("pruned_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_run_id"],
            ["plan_runs.id"],
            name=op.f("fk_pruned_messages_plan_run_id_plan_runs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pruned_messages")),
    )
    op.create_index("ix_pruned_messages_plan_run", "pruned_messages", ["plan_run_id"])
    op.create_index("ix_source_records_updated_at", "source_records", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_source_records_updated_at", table_name="source_records")
    op.drop_index("ix_pruned_messages_plan_run", table_name="pruned_messages")
    op.drop_table("pruned_messages")
