"""What is in the store: row counts per table, for `relmark status` and the demo summary."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from relmark.store.models import Base

TABLES = (
    "customers",
    "source_records",
    "orders",
    "order_lines",
    "products",
    "partners",
    "consents",
    "customer_events",
    "support_contacts",
    "mentions",
    "imports",
)


def table_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            name: int(
                connection.execute(
                    select(func.count()).select_from(Base.metadata.tables[name])
                ).scalar_one()
            )
            for name in TABLES
        }
