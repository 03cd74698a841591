"""loyalty ledger: accounts, immutable entries and the FIFO allocations of debits

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from relmark.store.types import UTCDateTime

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "loyalty_accounts",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("tier", sa.String(length=40), nullable=True),
        sa.Column("tier_since", UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("balance >= 0", name=op.f("ck_loyalty_accounts_balance_not_negative")),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_loyalty_accounts_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_loyalty_accounts")),
    )
    op.create_table(
        "loyalty_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("rule", sa.String(length=60), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("posted_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("occasion", sa.String(length=60), nullable=True),
        sa.Column("expired_entry_id", sa.Integer(), nullable=True),
        sa.Column("offer_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_loyalty_entries_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["expired_entry_id"],
            ["loyalty_entries.id"],
            name=op.f("fk_loyalty_entries_expired_entry_id_loyalty_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offers.id"], name=op.f("fk_loyalty_entries_offer_id_offers")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_loyalty_entries_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_entries")),
    )
    for name, columns, where in (
        ("uq_loyalty_entries_order_rule", ["order_id", "rule"], "order_id IS NOT NULL"),
        (
            "uq_loyalty_entries_occasion",
            ["customer_id", "rule", "occasion"],
            "occasion IS NOT NULL",
        ),
        ("uq_loyalty_entries_expired_entry", ["expired_entry_id"], "expired_entry_id IS NOT NULL"),
    ):
        op.create_index(
            name,
            "loyalty_entries",
            columns,
            unique=True,
            sqlite_where=sa.text(where),
            postgresql_where=sa.text(where),
        )
    op.create_index("ix_loyalty_entries_customer_at", "loyalty_entries", ["customer_id", "at"])
    op.create_index(
        "ix_loyalty_entries_earn_expiry",
        "loyalty_entries",
        ["expires_at"],
        sqlite_where=sa.text("points > 0"),
        postgresql_where=sa.text("points > 0"),
    )
    op.create_table(
        "loyalty_allocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("debit_id", sa.Integer(), nullable=False),
        sa.Column("earn_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["debit_id"],
            ["loyalty_entries.id"],
            name=op.f("fk_loyalty_allocations_debit_id_loyalty_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["earn_id"],
            ["loyalty_entries.id"],
            name=op.f("fk_loyalty_allocations_earn_id_loyalty_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_allocations")),
    )
    op.create_index(op.f("ix_loyalty_allocations_debit_id"), "loyalty_allocations", ["debit_id"])
    op.create_index(op.f("ix_loyalty_allocations_earn_id"), "loyalty_allocations", ["earn_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_loyalty_allocations_earn_id"), table_name="loyalty_allocations")
    op.drop_index(op.f("ix_loyalty_allocations_debit_id"), table_name="loyalty_allocations")
    op.drop_table("loyalty_allocations")
    op.drop_index("ix_loyalty_entries_earn_expiry", table_name="loyalty_entries")
    op.drop_index("ix_loyalty_entries_customer_at", table_name="loyalty_entries")
    for name in (
        "uq_loyalty_entries_expired_entry",
        "uq_loyalty_entries_occasion",
        "uq_loyalty_entries_order_rule",
    ):
        op.drop_index(name, table_name="loyalty_entries")
    op.drop_table("loyalty_entries")
    op.drop_table("loyalty_accounts")
