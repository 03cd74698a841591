"""What is in the store: row counts per table, for `relmark status` and the demo summary."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select, table

from relmark.store.quick_status import TABLES

if TYPE_CHECKING:
    from sqlalchemy import Engine


def table_counts(engine: Engine) -> dict[str, int]:
    """Rows per table. Counted through bare table names, not the ORM models: `relmark
    status` then starts without building the whole mapped schema."""
    with engine.connect() as connection:
        return {
            name: int(
                connection.execute(select(func.count()).select_from(table(name))).scalar_one()
            )
            for name in TABLES
        }


def store_summary(engine: Engine) -> dict[str, object]:
    """Headline figures of a store: what the demo prints and `status --json` could grow into."""
    from sqlalchemy import text

    with engine.connect() as connection:

        def scalar(sql: str) -> object:
            return connection.execute(text(sql)).scalar_one()

        def pairs(sql: str) -> dict[str, int]:
            return {str(k): int(v) for k, v in connection.execute(text(sql))}

        return {
            "customers_by_country": pairs(
                "SELECT country, COUNT(*) FROM customers GROUP BY country ORDER BY 2 DESC"
            ),
            "customers_by_language": pairs(
                "SELECT language, COUNT(*) FROM customers GROUP BY language ORDER BY 2 DESC"
            ),
            "orders_by_status": pairs(
                "SELECT status, COUNT(*) FROM orders GROUP BY status ORDER BY 2 DESC"
            ),
            "orders_by_channel": pairs(
                "SELECT COALESCE(channel, '-'), COUNT(*) FROM orders GROUP BY 1 ORDER BY 2 DESC"
            ),
            "revenue_minor_by_currency": pairs(
                "SELECT currency, SUM(amount_minor) FROM orders WHERE status = 'completed' "
                "GROUP BY currency"
            ),
            "buyers": int(scalar("SELECT COUNT(DISTINCT customer_id) FROM orders")),  # type: ignore[arg-type]
            "consents_by_status": pairs(
                "SELECT status, COUNT(*) FROM consents GROUP BY status ORDER BY 2 DESC"
            ),
            "mentions_by_language": pairs(
                "SELECT language, COUNT(*) FROM mentions GROUP BY language ORDER BY 2 DESC"
            ),
            "partners_by_kind": pairs(
                "SELECT kind, COUNT(*) FROM partners GROUP BY kind ORDER BY 2 DESC"
            ),
        }
