"""A source's first order import takes a shorter road (no comparison with stored orders);
it must land exactly where the general road does, and leave later imports correct."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
from sqlalchemy import Engine, select

from relmark.store.bulk import CONSTANT_COLUMN_ROWS, holds_any, mark_all_inserts, stage
from relmark.store.db import bulk_transaction
from relmark.store.models import Order

from .helpers import rows, run_import, write_csv

HEADER = ["order_id", "customer_id", "ordered_at", "amount", "currency"]


def _customers(engine: Engine, tmp_path, source: str) -> None:
    path = write_csv(tmp_path, f"customers-{source}.csv", ["customer_id"], [["C1"], ["C2"]])
    run_import(engine, "customers", path, source=source)


def test_staged_rows_marked_as_inserts_without_a_join(engine: Engine) -> None:
    # given three staged orders
    frame = pl.DataFrame({"external_id": ["A", "B", "C"], "__line": [2, 3, 4]})
    with bulk_transaction(engine) as connection:
        stage(connection, "stg_probe", frame)
        # when every row is declared new
        counts = mark_all_inserts(connection, "stg_probe")
        marked = connection.exec_driver_sql(
            "SELECT external_id, _target_id, _action FROM stg_probe ORDER BY __line"
        ).all()
        empty_source = holds_any(connection, "orders", {"source": "nowhere"})
    # then they carry the bookkeeping columns `classify` would have given them
    assert counts == {"insert": 3, "update": 0, "same": 0}
    assert [tuple(r) for r in marked] == [
        ("A", None, "insert"),
        ("B", None, "insert"),
        ("C", None, "insert"),
    ]
    assert empty_source is False


def test_first_import_of_a_source_beside_another_with_the_same_order_ids(
    engine: Engine, tmp_path
) -> None:
    # given a store with orders O1, O2 from source "shop"
    _customers(engine, tmp_path, "shop")
    _customers(engine, tmp_path, "market")
    shop = write_csv(
        tmp_path,
        "shop.csv",
        HEADER,
        [["O1", "C1", "2026-01-05T10:00:00Z", "10", "EUR"], ["O2", "C2", "2026-01-06", "5", "EUR"]],
    )
    run_import(engine, "orders", shop, source="shop")
    # when source "market" imports orders with the same ids for the first time
    market = write_csv(
        tmp_path,
        "market.csv",
        HEADER,
        [
            ["O2", "C1", "2026-02-01T08:00:00Z", "7.5", "USD"],
            ["O1", "C2", "2026-02-02", "1", "USD"],
        ],
    )
    first = run_import(engine, "orders", market, source="market")
    again = run_import(engine, "orders", market, source="market")
    changed = write_csv(
        tmp_path,
        "market2.csv",
        HEADER,
        [["O2", "C1", "2026-02-01T08:00:00Z", "8", "USD"], ["O3", "C2", "2026-02-03", "2", "USD"]],
    )
    later = run_import(engine, "orders", changed, source="market")
    # then the first import inserted all of them, in file order, and the later ones compare
    assert first.counts == {"inserted": 2, "updated": 0, "unchanged": 0}
    assert again.counts == {"inserted": 0, "updated": 0, "unchanged": 2}
    assert later.counts == {"inserted": 1, "updated": 1, "unchanged": 0}
    assert rows(
        engine,
        "SELECT o.source, o.external_id, sr.external_id, o.amount_minor, o.currency "
        "FROM orders o JOIN source_records sr ON sr.id = o.source_record_id ORDER BY o.id",
    ) == [
        ("shop", "O1", "C1", 1000, "EUR"),
        ("shop", "O2", "C2", 500, "EUR"),
        ("market", "O2", "C1", 800, "USD"),
        ("market", "O1", "C2", 100, "USD"),
        ("market", "O3", "C2", 200, "USD"),
    ]


def test_timestamps_of_every_accepted_shape_in_one_file(engine: Engine, tmp_path) -> None:
    # given one file mixing the fast shape (UTC, whole seconds) with every other accepted one
    _customers(engine, tmp_path, "shop")
    stamps = {
        "O1": "2026-01-05T10:00:00Z",
        "O2": "2026-01-05T10:00:00.250Z",
        "O3": "2026-01-05T12:00:00+02:00",
        "O4": "2026-01-05 05:00:00 -0500",
        "O5": "2026-01-05T10:00",
        "O6": "20260105",
        "O7": "  2026-01-05T10:00:00Z ",
    }
    path = write_csv(
        tmp_path,
        "orders.csv",
        HEADER,
        [[order, "C1", stamp, "1", "EUR"] for order, stamp in stamps.items()],
    )
    # when it is imported (timestamps without an offset are read in the store's default zone)
    run_import(engine, "orders", path, source="shop", timezone="Europe/Ljubljana")
    # then each is stored as the same instant it names
    with engine.connect() as connection:
        stored = dict(connection.execute(select(Order.external_id, Order.ordered_at)).all())
    ten = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    assert stored == {
        "O1": ten,
        "O2": ten.replace(microsecond=250_000),
        "O3": ten,
        "O4": ten,
        "O5": ten.replace(hour=9),
        "O6": datetime(2026, 1, 4, 23, 0, tzinfo=UTC),
        "O7": ten,
    }


def test_staged_constant_columns_and_file_order(engine: Engine) -> None:
    # given a long frame out of file order, with a constant text, a constant zero and a column
    # that is constant but for one null
    rows_count = CONSTANT_COLUMN_ROWS + 10
    frame = pl.DataFrame(
        {
            "__line": list(range(rows_count + 1, 1, -1)),
            "source": ["O'Brien: 50% & co \\ :x"] * rows_count,
            "discount_minor": [0] * rows_count,
            "channel": ["web"] * (rows_count - 1) + [None],
        }
    )
    with bulk_transaction(engine) as connection:
        # when it is staged
        stage(connection, "stg_probe", frame)
        stored = connection.exec_driver_sql(
            "SELECT __line, source, discount_minor, channel FROM stg_probe"
        ).all()
        distinct = connection.exec_driver_sql(
            "SELECT COUNT(DISTINCT source), SUM(discount_minor), COUNT(channel) FROM stg_probe"
        ).one()
    # then every row reads the same values as the frame, in file order
    expected = frame.sort("__line").rows()
    assert sorted(tuple(r) for r in stored) == expected
    if engine.dialect.name == "sqlite":  # the table's own order is the file's
        assert [r[0] for r in stored] == [r[0] for r in expected]
    assert tuple(distinct) == (1, 0, rows_count - 1)
