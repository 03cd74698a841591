"""Small stores for the loyalty tests: customers and orders written straight to the tables."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Engine, insert, text

from relmark.interact.loyalty.programme import ENABLED_KEY, Programme, parse_programme
from relmark.store import kv
from relmark.store.models import Customer, Order, SourceRecord

from ..conftest import NOW

PROGRAMME = """
name = "Test rewards"
currency = "EUR"
points_per_unit = 1
point_value = 0.01
expiry_months = 12
[tiers]
levels = [
  { name = "bronze", min = 0 }, { name = "silver", min = 100 }, { name = "gold", min = 500 },
]
[[rewards]]
key = "five-off"
title = "5 EUR off"
points = 50
amount = 5
valid_days = 30
[[rewards]]
key = "mug"
title = "A mug"
points = 10
gift = "mug"
"""


def programme(extra: str = "") -> Programme:
    return parse_programme(PROGRAMME.replace("[tiers]", extra + "\n[tiers]"), "test programme")


def write_programme(folder: Path, extra: str = "") -> Path:
    path = folder / "programme.toml"
    path.write_text(PROGRAMME.replace("[tiers]", extra + "\n[tiers]"), encoding="utf-8")
    return path


def enable(engine: Engine, on: bool = True) -> None:
    with engine.begin() as connection:
        kv.put_setting(connection, ENABLED_KEY, on, NOW)


def add_customer(engine: Engine, birthday: date | None = None) -> int:
    with engine.begin() as connection:
        customer = connection.execute(
            insert(Customer.__table__)
            .values(birthday=birthday, created_at=NOW, updated_at=NOW)
            .returning(Customer.__table__.c.id)
        ).scalar_one()
        record = connection.execute(
            insert(SourceRecord.__table__)
            .values(
                source="web",
                external_id=f"c{customer}",
                customer_id=customer,
                imported_at=NOW,
                updated_at=NOW,
            )
            .returning(SourceRecord.__table__.c.id)
        ).scalar_one()
        connection.execute(
            text("UPDATE customers SET first_record_id = :r WHERE id = :c"),
            {"r": record, "c": customer},
        )
    return int(customer)


def add_order(
    engine: Engine,
    customer: int,
    amount_minor: int,
    at: datetime,
    status: str = "completed",
    currency: str = "EUR",
) -> int:
    with engine.begin() as connection:
        record = connection.execute(
            text("SELECT first_record_id FROM customers WHERE id = :c"), {"c": customer}
        ).scalar_one()
        external = connection.execute(text("SELECT COUNT(*) FROM orders")).scalar_one()
        return int(
            connection.execute(
                insert(Order.__table__)
                .values(
                    source="web",
                    external_id=f"o{external + 1}",
                    customer_id=customer,
                    source_record_id=record,
                    ordered_at=at,
                    currency=currency,
                    amount_minor=amount_minor,
                    discount_minor=0,
                    status=status,
                )
                .returning(Order.__table__.c.id)
            ).scalar_one()
        )


def set_status(engine: Engine, order: int, status: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE orders SET status = :s WHERE id = :o"), {"s": status, "o": order}
        )


def ledger(engine: Engine, customer: int) -> list[tuple[str, str, int]]:
    with engine.connect() as connection:
        return [
            (r.kind, r.rule, int(r.points))
            for r in connection.execute(
                text(
                    "SELECT kind, rule, points FROM loyalty_entries WHERE customer_id = :c "
                    "ORDER BY id"
                ),
                {"c": customer},
            )
        ]


def balance(engine: Engine, customer: int) -> tuple[int, int]:
    """(the account's balance, the ledger's sum)."""
    with engine.connect() as connection:
        account = connection.execute(
            text("SELECT balance FROM loyalty_accounts WHERE customer_id = :c"), {"c": customer}
        ).scalar_one_or_none()
        total = connection.execute(
            text("SELECT COALESCE(SUM(points), 0) FROM loyalty_entries WHERE customer_id = :c"),
            {"c": customer},
        ).scalar_one()
    return int(account or 0), int(total)
