"""Import speed: relmark's importer against pandas `read_csv` + `DataFrame.to_sql`.

Both read the same CSV of order rows into the same database. relmark validates every value
(types, currencies, dates, duplicates, customer references), converts money to minor units and
upserts idempotently in one transaction; pandas only parses and inserts. Two peers:

- *plain pandas*: `read_csv` + default `to_sql` into a table without keys;
- *fair peer*: the same, then the two indexes the store needs to be usable (unique order id;
  customer + time), which relmark's import also builds.

Each run times relmark and both peers side by side on the same file (ratios compare within a
run; the machine is shared). Wall time and CPU time (all threads) are shown. In-process: the
import call alone. `--process` also times each side as a fresh Python process (interpreter,
library imports, read, write): relmark's start-up is then included, as for a user.

    python benchmarks/import_orders.py [--rows 1000000] [--backends sqlite,postgresql]
        [--runs 3] [--process] [--floor]

`--floor` adds, on SQLite, the cost of nothing but writing the stored rows again with one
`executemany` (no reading, no validation): the least any importer into this schema pays.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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


@dataclass
class Timing:
    """Wall and CPU seconds (CPU: every thread of the process, or of the child process)."""

    wall: float
    cpu: float


@contextmanager
def timed(into: list[Timing], *, child: bool = False) -> Iterator[None]:
    who = resource.RUSAGE_CHILDREN if child else resource.RUSAGE_SELF
    usage = resource.getrusage(who)
    started = time.perf_counter()
    yield
    wall = time.perf_counter() - started
    after = resource.getrusage(who)
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    into.append(Timing(wall, cpu))


def prepared_store(url: str, customers: Path) -> None:
    """A store that knows the customers: the orders' references resolve, as in a shop."""
    engine = make_engine(url)
    ensure_current(engine)
    import_file(engine, ImportOptions(ImportKind.CUSTOMERS, customers, source="bench"), now=NOW)
    engine.dispose()


def time_relmark(url: str, orders: Path, *, process: bool) -> tuple[Timing, dict]:
    """relmark's import of the order file into a prepared store (in this process or a new one)."""
    spent: list[Timing] = []
    if process:
        with timed(spent, child=True):
            done = subprocess.run(
                [sys.executable, "-c", RELMARK_PROCESS, url, str(orders)],
                check=True,
                capture_output=True,
                text=True,
            )
        return spent[0], json.loads(done.stdout)
    engine = make_engine(url)
    options = ImportOptions(ImportKind.ORDERS, orders, source="bench")
    with timed(spent):
        report = import_file(engine, options, now=NOW)
    engine.dispose()
    return spent[0], report.counts


def time_reimport(url: str, orders: Path, inserted: int) -> Timing:
    spent: list[Timing] = []
    engine = make_engine(url)
    with timed(spent):
        options = ImportOptions(ImportKind.ORDERS, orders, source="bench")
        again = import_file(engine, options, now=NOW)
    engine.dispose()
    assert again.counts["unchanged"] == inserted, again.counts
    return spent[0]


RELMARK_PROCESS = """
import json, sys
from datetime import UTC, datetime
from pathlib import Path
from relmark.enums import ImportKind
from relmark.ingest.importer import ImportOptions, import_file
from relmark.store.db import make_engine
engine = make_engine(sys.argv[1])
options = ImportOptions(ImportKind.ORDERS, Path(sys.argv[2]), source="bench")
report = import_file(engine, options, now=datetime(2026, 11, 1, tzinfo=UTC))
engine.dispose()
print(json.dumps(report.counts))
"""

#: The store's two order indexes, on the peer's table (its columns as read from the CSV).
PEER_INDEXES = (
    "CREATE UNIQUE INDEX ux_orders_pandas_order ON orders_pandas (order_id)",
    "CREATE INDEX ix_orders_pandas_customer_time ON orders_pandas (customer_id, ordered_at)",
)

PEER = """
import sys
import pandas as pd
from sqlalchemy import create_engine, event
url, orders, indexed = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
if engine.dialect.name == "sqlite":  # the settings relmark's stores use
    @event.listens_for(engine, "connect")
    def pragmas(connection, _record):
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-262144"):
            connection.execute("PRAGMA " + pragma)
frame = pd.read_csv(orders)
frame.to_sql("orders_pandas", engine, if_exists="replace", index=False)
if indexed:
    with engine.begin() as connection:
        for statement in sys.argv[4:]:
            connection.exec_driver_sql(statement)
engine.dispose()
"""


def time_pandas(url: str, orders: Path, *, process: bool) -> tuple[Timing, Timing]:
    """(plain pandas, fair peer): read_csv + to_sql, then also the two indexes."""
    spent: list[Timing] = []
    if process:
        for indexed in ("0", "1"):
            with timed(spent, child=True):
                subprocess.run(
                    [sys.executable, "-c", PEER, url, str(orders), indexed, *PEER_INDEXES],
                    check=True,
                )
        return spent[0], spent[1]
    engine = make_engine(url)
    with timed(spent):
        frame = pd.read_csv(orders)
        frame.to_sql("orders_pandas", engine, if_exists="replace", index=False)
    with timed(spent), engine.begin() as connection:
        for statement in PEER_INDEXES:
            connection.exec_driver_sql(statement)
    engine.dispose()
    plain, indexes = spent
    return plain, Timing(plain.wall + indexes.wall, plain.cpu + indexes.cpu)


def time_pandas_multi(url: str, orders: Path) -> Timing:
    spent: list[Timing] = []
    engine = make_engine(url)
    with timed(spent):
        frame = pd.read_csv(orders)
        frame.to_sql(
            "orders_pandas",
            engine,
            if_exists="replace",
            index=False,
            method="multi",
            chunksize=1000,
        )
    engine.dispose()
    return spent[0]


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


def spread(values: list[float]) -> str:
    ordered = sorted(values)
    middle = ordered[len(ordered) // 2]
    return f"median {middle:.2f} (min {ordered[0]:.2f}, max {ordered[-1]:.2f}, n={len(values)})"


def run_backend(backend: str, args: argparse.Namespace, folder: Path, files: tuple[Path, Path]):
    customers, orders = files
    modes = ("in-process", "process") if args.process else ("in-process",)
    ratios: dict[str, list[float]] = {}
    for run in range(args.runs):
        for mode in modes:
            url, schema = store_url(backend, folder, args.pg_url)
            prepared_store(url, customers)
            process = mode == "process"
            if run % 2 == 0:
                ours, counts = time_relmark(url, orders, process=process)
                plain, fair = time_pandas(url, orders, process=process)
            else:  # the other order too: the first to run may meet a colder or busier machine
                plain, fair = time_pandas(url, orders, process=process)
                ours, counts = time_relmark(url, orders, process=process)
            print(
                f"[{backend} {mode} run {run + 1}] relmark {ours.wall:.2f} s "
                f"(cpu {ours.cpu:.2f}; {counts['inserted']:,} inserted) | plain pandas "
                f"{plain.wall:.2f} s (cpu {plain.cpu:.2f}) | fair peer {fair.wall:.2f} s "
                f"(cpu {fair.cpu:.2f}) | relmark vs fair peer {fair.wall / ours.wall:.2f}x, "
                f"vs plain pandas {plain.wall / ours.wall:.2f}x",
                flush=True,
            )
            ratios.setdefault(f"{mode} vs fair peer", []).append(fair.wall / ours.wall)
            ratios.setdefault(f"{mode} vs plain pandas", []).append(plain.wall / ours.wall)
            if backend == "sqlite":  # on PostgreSQL most of the work is the server's
                ratios.setdefault(f"{mode} vs fair peer, cpu", []).append(fair.cpu / ours.cpu)
            if run == 0 and mode == "in-process":
                again = time_reimport(url, orders, counts["inserted"])
                print(f"[{backend}] re-import, all unchanged: {again.wall:.2f} s", flush=True)
                if args.also_multi:
                    multi = time_pandas_multi(url, orders)
                    print(f"[{backend}] pandas to_sql method=multi: {multi.wall:.2f} s")
                if args.floor and backend == "sqlite":
                    indexed, bare = time_sqlite_floor(url, folder)
                    print(
                        f"[{backend}] floor: executemany of the {args.rows:,} stored rows into "
                        f"the orders table: {indexed:.2f} s with its indexes, {bare:.2f} s "
                        "without secondary indexes",
                        flush=True,
                    )
            if schema:
                with make_engine(args.pg_url).begin() as connection:
                    connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    for name, values in ratios.items():
        print(f"[{backend}] relmark {name}: {spread(values)}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--runs", type=int, default=3, help="runs per backend (ratios' spread)")
    parser.add_argument(
        "--process", action="store_true", help="also time each side as a fresh Python process"
    )
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
        files = make_files(folder, args.rows, args.customers)
        print(
            f"{args.rows:,} order rows, {args.customers:,} customers, "
            f"{files[1].stat().st_size / 1e6:.0f} MB CSV"
        )
        for backend in args.backends.split(","):
            run_backend(backend, args, folder, files)


if __name__ == "__main__":
    main()
