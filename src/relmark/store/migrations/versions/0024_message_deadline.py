"""message deadline: when a planned message becomes too late to send (the end of the
customer's local day plus `late_until` for a birthday, the fell-due time plus `late_until`
for an order's message), decided by the plan, checked by the sender

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from relmark.store.types import UTCDateTime

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("expires_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("expires_at")
