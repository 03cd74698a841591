"""indexes planning reads through: orders by time (the last days' orders), scores by
revenue and by CLV with the customer (an audience's top share, off the index alone), restricted customers (left out of every plan)

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
    # Covering (the customer too): a top share's threshold is read off the index alone.
    op.create_index(
        "ix_customer_scores_run_revenue",
        "customer_scores",
        ["run_id", "revenue_minor", "customer_id"],
    )
    op.drop_index("ix_customer_scores_run_clv", table_name="customer_scores")
    op.create_index(
        "ix_customer_scores_run_clv_customer",
        "customer_scores",
        ["run_id", "clv_minor", "customer_id"],
    )
    op.create_index(
        "ix_customers_restricted",
        "customers",
        ["restricted_at"],
        sqlite_where=sa.text("restricted_at IS NOT NULL"),
        postgresql_where=sa.text("restricted_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_customer_scores_run_clv_customer", table_name="customer_scores")
    op.create_index("ix_customer_scores_run_clv", "customer_scores", ["run_id", "clv_minor"])
    op.drop_index("ix_customers_restricted", table_name="customers")
    op.drop_index("ix_customer_scores_run_revenue", table_name="customer_scores")
    op.drop_index("ix_orders_ordered_at", table_name="orders")
