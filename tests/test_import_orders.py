"""Importing orders: order-level and line-level files, money, references, idempotence."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from relmark.errors import InvalidInput

from .helpers import count, rows, run_import, snapshot, write_csv


@pytest.fixture
def shop(engine: Engine, tmp_path) -> Engine:
    """A store with two customers, two products and a partner."""
    run_import(
        engine,
        "customers",
        write_csv(
            tmp_path,
            "customers.csv",
            ["customer_id", "email"],
            [["C1", "a@example.com"], ["C2", "b@example.com"]],
        ),
    )
    run_import(
        engine,
        "products",
        write_csv(
            tmp_path,
            "products.csv",
            ["sku", "name", "price", "unit_cost", "margin", "howto_url"],
            [
                ["SKU1", "Grinder", "10.50", "4.20", "60%", "https://videos.example.com/sku1"],
                ["SKU2", "Filters", "5", "1", "0.8", ""],
            ],
        ),
    )
    run_import(
        engine,
        "partners",
        write_csv(
            tmp_path,
            "partners.csv",
            ["partner_id", "name", "kind"],
            [["P1", "North Distribution", "distributor"]],
        ),
    )
    return engine


def test_order_level_file(shop: Engine, tmp_path) -> None:
    path = write_csv(
        tmp_path,
        "orders.csv",
        [
            "order_id",
            "customer_id",
            "ordered_at",
            "total",
            "currency",
            "discount",
            "status",
            "partner_id",
            "channel",
        ],
        [
            ["O1", "C1", "2026-01-05T10:00:00Z", "1234.56", "EUR", "10", "paid", "P1", "web"],
            ["O2", "C2", "2026-02-01", "1500", "JPY", "", "refunded", "", "store"],
        ],
    )

    report = run_import(shop, "orders", path)

    assert report.counts == {"inserted": 2, "updated": 0, "unchanged": 0}
    assert rows(
        shop,
        "SELECT external_id, amount_minor, discount_minor, currency, status, "
        "partner_id IS NOT NULL, channel FROM orders ORDER BY id",
    ) == [
        ("O1", 123456, 1000, "EUR", "completed", True, "web"),
        ("O2", 1500, 0, "JPY", "refunded", False, "store"),
    ]


def test_line_level_file_builds_orders_and_lines(shop: Engine, tmp_path) -> None:
    path = write_csv(
        tmp_path,
        "orders.csv",
        ["order_id", "customer_id", "ordered_at", "sku", "quantity", "unit_price", "discount"],
        [
            ["O1", "C1", "2026-01-05 10:00", "SKU1", "2", "10.50", "1"],
            ["O1", "", "", "SKU2", "1", "5.00", ""],
            ["O2", "C2", "2026-01-06", "SKU2", "3", "5", ""],
        ],
    )

    report = run_import(shop, "orders", path)

    assert report.counts == {"inserted": 2, "updated": 0, "unchanged": 0, "lines_written": 3}
    assert rows(shop, "SELECT external_id, amount_minor, quantity FROM orders ORDER BY id") == [
        ("O1", 2500, 3),
        ("O2", 1500, 3),
    ]
    assert rows(
        shop,
        "SELECT l.line_no, l.sku, l.quantity, l.unit_price_minor, p.name "
        "FROM order_lines l JOIN products p ON p.id = l.product_id "
        "ORDER BY l.order_id, l.line_no",
    ) == [
        (1, "SKU1", 2, 1050, "Grinder"),
        (2, "SKU2", 1, 500, "Filters"),
        (1, "SKU2", 3, 500, "Filters"),
    ]


def test_reimport_is_idempotent_and_changed_lines_update(shop: Engine, tmp_path) -> None:
    header = ["order_id", "customer_id", "ordered_at", "sku", "quantity", "unit_price"]
    first = write_csv(tmp_path, "o1.csv", header, [["O1", "C1", "2026-01-05", "SKU1", "1", "10"]])
    run_import(shop, "orders", first)
    before = snapshot(shop)

    again = run_import(shop, "orders", first)
    changed = write_csv(tmp_path, "o2.csv", header, [["O1", "C1", "2026-01-05", "SKU1", "2", "10"]])
    updated = run_import(shop, "orders", changed)

    assert again.counts == {"inserted": 0, "updated": 0, "unchanged": 1, "lines_written": 0}
    assert {k: v for k, v in snapshot(shop).items() if k != "imports"} == {
        k: v for k, v in before.items() if k != "imports"
    }
    assert updated.counts == {"inserted": 0, "updated": 1, "unchanged": 0, "lines_written": 1}
    assert rows(shop, "SELECT quantity FROM order_lines") == [(2,)]
    assert rows(shop, "SELECT amount_minor FROM orders") == [(2000,)]


def test_unknown_customer_is_refused_and_changes_nothing(shop: Engine, tmp_path) -> None:
    path = write_csv(
        tmp_path,
        "orders.csv",
        ["order_id", "customer_id", "ordered_at", "amount"],
        [["O1", "C1", "2026-01-05", "10"], ["O2", "C404", "2026-01-05", "10"]],
    )
    before = snapshot(shop)

    with pytest.raises(InvalidInput) as caught:
        run_import(shop, "orders", path)

    assert str(caught.value) == (
        f"{path}:3: column 'customer_id': customer 'C404' is not known in source 'default': "
        "import customers first, use --source NAME, or pass --create-missing"
    )
    assert snapshot(shop) == before


def test_create_missing_makes_bare_customers_and_products(shop: Engine, tmp_path) -> None:
    path = write_csv(
        tmp_path,
        "orders.csv",
        ["order_id", "customer_id", "ordered_at", "sku", "quantity", "unit_price"],
        [["O9", "C9", "2026-01-05", "NEW-SKU", "1", "3"]],
    )

    report = run_import(shop, "orders", path, create_missing=True)

    assert report.counts["customers_created"] == 1
    assert report.counts["products_created"] == 1
    assert count(shop, "customers") == 3


def test_unknown_partner_is_refused(shop: Engine, tmp_path) -> None:
    path = write_csv(
        tmp_path,
        "orders.csv",
        ["order_id", "customer_id", "ordered_at", "amount", "partner_id"],
        [["O1", "C1", "2026-01-05", "10", "P404"]],
    )

    with pytest.raises(InvalidInput, match="partner 'P404' is not known"):
        run_import(shop, "orders", path)


def test_skip_invalid_imports_good_orders_and_writes_rejects(shop: Engine, tmp_path) -> None:
    path = write_csv(
        tmp_path,
        "orders.csv",
        ["order_id", "customer_id", "ordered_at", "sku", "quantity", "unit_price"],
        [
            ["O1", "C1", "2026-01-05", "SKU1", "1", "10"],
            ["O1", "C1", "2026-01-05", "SKU2", "-1", "5"],
            ["O2", "C2", "2026-01-05", "SKU2", "1", "5"],
            ["O3", "C404", "2026-01-05", "SKU2", "1", "5"],
        ],
    )

    report = run_import(shop, "orders", path, skip_invalid=True)

    assert report.counts["inserted"] == 1
    assert report.rejected == 2
    assert rows(shop, "SELECT external_id FROM orders") == [("O2",)]
    rejects = (tmp_path / "orders.csv.rejects.csv").read_text(encoding="utf-8").splitlines()
    assert rejects[0] == "order_id,customer_id,ordered_at,sku,quantity,unit_price,line,reason"
    assert rejects[1].startswith("O1,C1,2026-01-05,SKU2,-1,5,3,column 'quantity': '-1': must")
    assert "C404" in rejects[2]
    assert "is not known in source" in rejects[2]


def test_lines_of_one_order_must_agree(shop: Engine, tmp_path) -> None:
    path = write_csv(
        tmp_path,
        "orders.csv",
        ["order_id", "customer_id", "ordered_at", "sku", "quantity", "unit_price"],
        [
            ["O1", "C1", "2026-01-05", "SKU1", "1", "10"],
            ["O1", "C2", "2026-01-05", "SKU2", "1", "5"],
        ],
    )

    with pytest.raises(InvalidInput) as caught:
        run_import(shop, "orders", path)

    assert str(caught.value) == (
        f"{path}:3: column 'customer_id': 'C2' differs from 'C1' given for order 'O1' on line 2"
    )
