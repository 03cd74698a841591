"""Import speed: relmark's importer against pandas `read_csv` + `DataFrame.to_sql`.

Both read the same CSV of order rows into the same database. relmark validates every value
(types, currencies, dates, duplicates, customer references), converts money to minor units and
upserts idempotently in one transaction; pandas only parses and inserts. The peer runs its
default `to_sql`; `--also-multi` adds `method="multi", chunksize=1000` (about ten times slower
on both backends at 200,000 rows), and the faster variant is the reference.

    python benchmarks/import_orders.py [--rows 1000000] [--backends sqlite,postgresql] [--floor]

`--floor` adds, on SQLite, the cost of nothing but writing the stored rows again with one
`executemany` (no reading, no validation): the least any importer into this schema pays.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
from sqlalchemy import text
from sqlalchemy.engine import make_url

from relmark.enums import ImportKind
from relmark.ingest.importer import ImportOptions, import_file
from relmark.store.db import make_engine, normalise_url
from relmark.store.migrate import ensure_current

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def make_files(folder: Path, rows: int, customers: int, seed: int = 1) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    customer_ids = [f"C{i:07d}" for i in range(customers)]
    pl.DataFrame(
        {"customer_id": customer_ids, "email": [f"c{i}@example.com" for i in range(customers)]}
    ).write_csv(folder / "customers.csv")
    start = np.datetime64("2023-01-01T00:00:00")
    seconds = rng.integers(0, 3 * 365 * 86_400, size=rows).astype("timedelta64[s]")
    frame = pl.DataFrame(
        {
            "order_id": [f"O{i:08d}" for i in range(rows)],
            "customer_id": np.array(customer_ids)[rng.integers(0, customers, size=rows)],
            "ordered_at": pl.Series((start + seconds).astype("datetime64[us]")).dt.strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            ),
            "amount": pl.Series(rng.gamma(6, 9, size=rows)).round(2).cast(pl.String),
            "currency": rng.choice(["USD", "EUR", "MYR"], size=rows),
            "status": rng.choice(
                ["completed", "refunded", "returned"], size=rows, p=[0.94, 0.03, 0.03]
            ),
            "channel": rng.choice(["web", "store", "marketplace"], size=rows),
        }
    )
    frame.write_csv(folder / "orders.csv")
    return folder / "customers.csv", folder / "orders.csv"


def store_url(backend: str, folder: Path, pg_url: str) -> tuple[str, str | None]:
    if backend == "sqlite":
        return f"sqlite:///{folder / f'bench-{uuid.uuid4().hex[:6]}.db'}", None
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with make_engine(pg_url).begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(normalise_url(pg_url)).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), schema


def time_relmark(url: str, customers: Path, orders: Path) -> tuple[float, float, dict]:
    engine = make_engine(url)
    ensure_current(engine)
    import_file(engine, ImportOptions(ImportKind.CUSTOMERS, customers, source="bench"), now=NOW)
    started = time.perf_counter()
    report = import_file(engine, ImportOptions(ImportKind.ORDERS, orders, source="bench"), now=NOW)
    first = time.perf_counter() - started
    started = time.perf_counter()
    again = import_file(engine, ImportOptions(ImportKind.ORDERS, orders, source="bench"), now=NOW)
    second = time.perf_counter() - started
    engine.dispose()
    assert again.counts["unchanged"] == report.counts["inserted"]
    return first, second, report.counts


def time_pandas(url: str, orders: Path, method: str | None) -> float:
    engine = make_engine(url)
    started = time.perf_counter()
    frame = pd.read_csv(orders)
    frame.to_sql(
        "orders_pandas",
        engine,
        if_exists="replace",
        index=False,
        method=method,
        chunksize=1000 if method else None,
    )
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def time_sqlite_floor(url: str, folder: Path) -> tuple[float, float]:
    """The least any importer pays to write these rows into relmark's orders table on SQLite.

    The rows relmark stored (already validated, customers resolved, money in minor units)
    are written again with one `executemany` into a fresh store of the same schema, in one
    transaction: with the table's indexes, and with the table alone (no secondary indexes).
    Reading, validating and resolving cost nothing here; only the write is timed.
    """
    columns = (
        "source, external_id, customer_id, source_record_id, ordered_at, currency, "
        "amount_minor, discount_minor, cost_minor, quantity, status, channel, partner_id"
    )
    source = sqlite3.connect(make_url(url).database)
    rows = source.execute(f"SELECT {columns} FROM orders ORDER BY id").fetchall()
    customers = source.execute("SELECT * FROM customers").fetchall()
    records = source.execute("SELECT * FROM source_records").fetchall()
    source.close()
    timings = []
    for with_indexes in (True, False):
        path = folder / f"floor-{uuid.uuid4().hex[:6]}.db"
        engine = make_engine(f"sqlite:///{path}")
        ensure_current(engine)
        engine.dispose()
        target = sqlite3.connect(path, isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-262144"):
            target.execute(f"PRAGMA {pragma}")
        if not with_indexes:
            target.execute("DROP INDEX ix_orders_customer_time")
            target.execute("DROP INDEX ix_orders_partner")
        target.execute("BEGIN")
        marks = ", ".join("?" for _ in customers[0])
        target.executemany(f"INSERT INTO customers VALUES ({marks})", customers)
        marks = ", ".join("?" for _ in records[0])
        target.executemany(f"INSERT INTO source_records VALUES ({marks})", records)
        target.execute("COMMIT")
        marks = ", ".join("?" for _ in rows[0])
        started = time.perf_counter()
        target.execute("BEGIN")
        target.executemany(f"INSERT INTO orders ({columns}) VALUES ({marks})", rows)
        target.execute("COMMIT")
        timings.append(time.perf_counter() - started)
        target.close()
    return timings[0], timings[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--also-multi", action="store_true")
    parser.add_argument(
        "--floor",
        action="store_true",
        help="on SQLite, also time a bare executemany of the stored rows (the write's floor)",
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "RELMARK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        customers, orders = make_files(folder, args.rows, args.customers)
        print(
            f"{args.rows:,} order rows, {args.customers:,} customers, "
            f"{orders.stat().st_size / 1e6:.0f} MB CSV"
        )
        for backend in args.backends.split(","):
            url, schema = store_url(backend, folder, args.pg_url)
            ours, again, counts = time_relmark(url, customers, orders)
            methods = (None, "multi") if args.also_multi else (None,)
            peers = {m or "default": time_pandas(url, orders, m) for m in methods}
            best = min(peers.values())
            print(
                f"\n[{backend}] relmark import: {ours:.2f} s = {args.rows / ours:,.0f} rows/s "
                f"({counts['inserted']:,} inserted); re-import (all unchanged): {again:.2f} s"
            )
            for name, seconds in peers.items():
                print(
                    f"[{backend}] pandas read_csv + to_sql ({name}): {seconds:.2f} s = "
                    f"{args.rows / seconds:,.0f} rows/s"
                )
            print(f"[{backend}] ratio relmark / best pandas: {best / ours:.2f}x faster")
            if args.floor and backend == "sqlite":
                indexed, bare = time_sqlite_floor(url, folder)
                print(
                    f"[{backend}] floor: executemany of the {args.rows:,} stored rows into the "
                    f"orders table: {indexed:.2f} s with its indexes, {bare:.2f} s without "
                    f"secondary indexes; half of pandas' time is {best / 2:.2f} s"
                )
            if schema:
                with make_engine(args.pg_url).begin() as connection:
                    connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


if __name__ == "__main__":
    main()
