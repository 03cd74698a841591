"""A small shop for referral tests: customers and orders through the real importer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from relmark.store.referrals import code_for

from ..helpers import run_import, write_csv

CUSTOMERS = ["customer_id", "email", "phone", "first_name", "country", "address", "postcode"]
ORDERS = ["order_id", "customer_id", "ordered_at", "total", "currency", "status", "referral_code"]
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@dataclass
class Referrals:
    engine: Engine
    folder: Path
    files: int = 0

    def customers(self, rows: list[list[Any]]) -> None:
        self.files += 1
        path = write_csv(self.folder, f"c{self.files}.csv", CUSTOMERS, rows)
        run_import(self.engine, "customers", path)

    def orders(self, rows: list[list[Any]], **options: Any) -> Any:
        self.files += 1
        path = write_csv(self.folder, f"o{self.files}.csv", ORDERS, rows)
        return run_import(self.engine, "orders", path, **options)

    def id_of(self, external_id: str) -> int:
        return int(
            self.value(
                "SELECT customer_id FROM source_records WHERE external_id = :e", e=external_id
            )
        )

    def code_of(self, external_id: str) -> str:
        with self.engine.begin() as connection:
            return code_for(connection, self.id_of(external_id), NOW)

    def value(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as connection:
            return connection.execute(text(sql), params).scalar()

    def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        with self.engine.connect() as connection:
            return [tuple(r) for r in connection.execute(text(sql), params)]

    def referrals(self) -> list[tuple[Any, ...]]:
        """(referee's external id, order, via, status, reason), by order id."""
        return self.rows(
            "SELECT s.external_id, o.external_id, r.via, r.status, r.reason FROM referrals r "
            "JOIN orders o ON o.id = r.order_id JOIN customers c ON c.id = r.referee_id "
            "JOIN source_records s ON s.id = c.first_record_id ORDER BY o.external_id"
        )


@pytest.fixture
def shop(engine: Engine, tmp_path: Path) -> Referrals:
    """Ana (the referrer, who has ordered before) and five would-be referees."""
    shop = Referrals(engine, tmp_path)
    shop.customers(
        [
            ["ANA", "ana@example.com", "+38640111222", "Ana", "SI", "Trubarjeva 5", "1000"],
            ["BOR", "bor@example.com", "+38640333444", "Bor", "SI", "Čopova 1", "1000"],
            ["CIR", "ANA@Example.com ", "", "Ciril", "SI", "", ""],
            ["DAN", "dan@example.com", "040 111 222", "Dan", "SI", "", ""],
            ["EVA", "eva@example.com", "", "Eva", "SI", "trubarjeva  5.", "1000"],
            ["FIL", "fil@example.com", "", "Filip", "SI", "", ""],
        ]
    )
    shop.orders([["A-1", "ANA", "2026-01-10", "50.00", "EUR", "completed", ""]])
    return shop
