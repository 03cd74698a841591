"""plan run scope: which plan runs covered the whole store (the catch-up after an outage
starts at the last of those, not at a plan for a few new customers)

Revision ID: 0018
Revises: 0012
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plan_runs") as batch:
        batch.add_column(sa.Column("scope", sa.String(length=200), nullable=True))
    op.create_index("ix_plan_runs_whole_as_of", "plan_runs", ["scope", "as_of"])


def downgrade() -> None:
    op.drop_index("ix_plan_runs_whole_as_of", table_name="plan_runs")
    with op.batch_alter_table("plan_runs") as batch:
        batch.drop_column("scope")
