"""CDNOW, Shopify, Parquet and JSON Lines files import through the same path as CSV."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine

from .helpers import count, rows, run_import

DATA = Path(__file__).parent / "data"
CDNOW = Path(__file__).resolve().parent / "data" / "cdnow" / "CDNOW_sample.txt"


def test_cdnow_sample_imports_every_transaction(engine: Engine) -> None:
    assert CDNOW.exists(), f"the CDNOW sample is expected at {CDNOW}"
    # an independent reading of the file: the oracle for counts and totals
    parsed = [line.split() for line in CDNOW.read_text().splitlines() if line.strip()]
    expected_cents = sum(int(Decimal(p[4]) * 100) for p in parsed)
    expected_customers = len({int(p[0]) for p in parsed})

    report = run_import(engine, "orders", CDNOW, file_format="cdnow")
    again = run_import(engine, "orders", CDNOW, file_format="cdnow")

    assert report.source == "cdnow"
    assert report.counts["inserted"] == len(parsed) == 6919
    assert report.counts["customers_created"] == expected_customers == 2357
    assert again.counts["inserted"] == 0
    assert again.counts["unchanged"] == 6919
    assert rows(engine, "SELECT SUM(amount_minor), SUM(quantity) FROM orders") == [
        (expected_cents, sum(int(p[3]) for p in parsed))
    ]
    first = rows(
        engine,
        "SELECT o.external_id, s.external_id, o.ordered_at FROM orders o "
        "JOIN source_records s ON s.id = o.source_record_id ORDER BY o.id LIMIT 1",
    )
    assert first[0][:2] == ("4-19970101-1", "4")
    assert str(first[0][2]).startswith("1997-01-01 00:00:00")


def test_shopify_export_brings_customers_products_and_orders(engine: Engine) -> None:
    report = run_import(engine, "orders", DATA / "shopify_orders.csv", file_format="shopify")

    assert report.counts["inserted"] == 3
    assert report.counts["customers_created"] == 3
    assert report.counts["products_created"] == 2
    assert rows(
        engine,
        "SELECT external_id, amount_minor, discount_minor, currency, status, "
        "channel, quantity FROM orders ORDER BY id",
    ) == [
        ("#1001", 14980, 2000, "MYR", "completed", "web", 3),
        ("#1002", 4000, 0, "MYR", "refunded", "web", 1),
        ("#1003", 5990, 0, "MYR", "completed", "pos", 1),
    ]
    assert rows(
        engine,
        "SELECT external_id, email, first_name, last_name, city, country "
        "FROM source_records ORDER BY id",
    ) == [
        (
            "siti.aminah@example.my",
            "siti.aminah@example.my",
            "Siti",
            "Aminah binti Abdullah",
            "Kuala Lumpur",
            "MY",
        ),
        ("olena@example.ua", "olena@example.ua", "Olena", "Kovalenko", "Kyiv", "UA"),
        ("guest:#1003", None, None, None, None, None),
    ]
    # "Accepts Marketing = no" is a box not ticked, not a withdrawal (issue 12)
    assert rows(engine, "SELECT status FROM consents ORDER BY id") == [
        ("granted",),
        ("not_granted",),
    ]
    assert count(engine, "order_lines") == 4


def test_shopify_timestamps_keep_their_offsets(engine: Engine) -> None:
    run_import(engine, "orders", DATA / "shopify_orders.csv", file_format="shopify")

    with engine.connect() as connection:
        from sqlalchemy import select

        from relmark.store.models import Order

        first = connection.execute(select(Order.ordered_at).order_by(Order.id)).scalars().first()
    assert first is not None
    assert first.isoformat() == "2026-03-02T02:14:12+00:00"


@pytest.mark.parametrize("suffix", ["parquet", "jsonl"])
def test_parquet_and_json_lines(sqlite_engine: Engine, tmp_path, suffix: str) -> None:
    frame = pl.DataFrame(
        {
            "customer_id": ["C1", "C2"],
            "email": ["a@example.com", None],
            "birthday": ["1990-01-31", "1991-02-28"],
            "country": ["SI", "MY"],
        }
    )
    path = tmp_path / f"customers.{suffix}"
    if suffix == "parquet":
        frame.with_columns(pl.col("birthday").str.to_date()).write_parquet(path)
    else:
        frame.write_ndjson(path)

    report = run_import(sqlite_engine, "customers", path)

    assert report.file_format == suffix
    assert report.counts["inserted"] == 2
    assert rows(sqlite_engine, "SELECT email, birthday, country FROM customers ORDER BY id") == [
        ("a@example.com", "1990-01-31", "SI"),
        (None, "1991-02-28", "MY"),
    ]


def test_parquet_problems_are_reported_by_row(sqlite_engine: Engine, tmp_path) -> None:
    path = tmp_path / "customers.parquet"
    pl.DataFrame({"customer_id": ["C1", "C2"], "birthday": ["1990-01-31", "nope"]}).write_parquet(
        path
    )

    from relmark.errors import InvalidInput

    with pytest.raises(InvalidInput) as caught:
        run_import(sqlite_engine, "customers", path)

    assert str(caught.value).startswith(f"{path}:2: column 'birthday': 'nope'")
