"""indexes planning reads through: orders by time (the last days' orders), scores by
revenue (an audience's top share), restricted customers (left out of every plan)

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_orders_ordered_at", "orders", ["ordered_at"])
    op.create_index(
        "ix_customer_scores_run_revenue", "customer_scores", ["run_id", "revenue_minor"]
    )
    op.create_index(
        "ix_customers_restricted",
        "customers",
        ["restricted_at"],
        sqlite_where=sa.text("restricted_at IS NOT NULL"),
        postgresql_where=sa.text("restricted_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_customers_restricted", table_name="customers")
    op.drop_index("ix_customer_scores_run_revenue", table_name="customer_scores")
    op.drop_index("ix_orders_ordered_at", table_name="orders")
