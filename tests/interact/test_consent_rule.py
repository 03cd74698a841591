"""The consent rule computed two ways (Polars for the 360 view, SQL for planning) agrees."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import polars as pl
from sqlalchemy import Engine, insert

from relmark.store import consents
from relmark.store.bulk import stage
from relmark.store.db import bulk_transaction
from relmark.store.models import Consent

from .conftest import Shop

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_sql_and_polars_rules_agree_on_random_histories(shop: Shop) -> None:
    shop.customers(
        [[f"C{i}", f"c{i}@example.com", "", "", "", "", "", "", "", ""] for i in range(40)]
    )
    customers = [shop.id_of(f"C{i}") for i in range(40)]
    records = _records(shop.engine)
    rng = random.Random(5)
    rows = []
    for _ in range(400):
        customer = rng.choice(customers)
        rows.append(
            {
                "customer_id": customer,
                "source_record_id": rng.choice([None, records[customer]]),
                "purpose": rng.choice(["marketing", "service"]),
                "channel": rng.choice(["email", "sms"]),
                "status": rng.choice(["granted", "withdrawn", "not_granted", "pending"]),
                "lawful_basis": "consent",
                "source": "test",
                "proof": "random",
                "recorded_at": T0 + timedelta(hours=rng.randint(0, 200)),
            }
        )
    with shop.engine.begin() as connection:
        connection.execute(insert(Consent), rows)
    with bulk_transaction(shop.engine) as connection:
        stage(connection, "stg_ids", pl.DataFrame({"customer_id": customers}))
        by_sql = consents.effective_status(connection, "stg_ids")
        by_polars = consents.effective(consents.latest_statements(connection))
    keys = ["customer_id", "purpose", "channel"]
    left = by_sql.sort(keys)
    right = by_polars.select(*keys, "status").sort(keys)
    assert left.height > 50
    assert left.equals(right)


def _records(engine: Engine) -> dict[int, int]:
    with engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT customer_id, id FROM source_records").all()
    return {int(c): int(r) for c, r in rows}
