"""sent messages keep no planning reason: clear the stale `quiet_hours_deferred` of old rows

Revision ID: 0015
Revises: 0012
Create Date: 2026-11-30

Before, `mark_sent` left the reason the planner gave a planned message, so a sent message
still read "deferred for quiet hours" in the outbox list. The reason says why a message is
not (yet) going out; once it went, there is none.
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE messages SET reason = NULL WHERE status = 'sent' AND reason IS NOT NULL")


def downgrade() -> None:
    pass  # the cleared reasons were stale; nothing to restore
