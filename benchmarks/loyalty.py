"""Loyalty speed: ledger postings for a store's whole order history.

Goal (issue 14): ledger postings for 1,000,000 orders within 30 s on 2 cores (bulk,
set-based). The store is generated directly (customers, records, orders; 4 % refunded
after posting, so the reversal pass has work) and the clock is timed for:

1. the first posting: every order's points, expiry dates, accounts and tiers (+ events);
2. a re-run: nothing new to post (the idempotency check over every order);
3. refunds: 4 % of the orders refunded, their points taken back (own entries first, FIFO);
4. expiry two years on: what is left of every earn entry expires.

    python benchmarks/loyalty.py [--orders 1000000] [--backend sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
from sqlalchemy import Engine, text

from relmark.interact.loyalty import ENABLED_KEY, load_programme, run_posting
from relmark.store import kv
from relmark.store.bulk import append
from relmark.store.db import bulk_transaction, make_engine
from relmark.store.migrate import ensure_current, upgrade
from relmark.store.models import Customer, Order, SourceRecord

AS_OF = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def build(engine: Engine, orders: int, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    customers = max(orders // 5, 10)
    start = AS_OF - timedelta(days=700)
    span = int((AS_OF - start).total_seconds())
    ids = np.arange(1, customers + 1)
    now = pl.lit(AS_OF, dtype=pl.Datetime("us", "UTC"))
    people = pl.DataFrame({"id": ids, "first_record_id": ids}).with_columns(
        now.alias("created_at"), now.alias("updated_at")
    )
    ordered_at = np.datetime64(start.replace(tzinfo=None), "s") + rng.integers(
        0, span, orders
    ).astype("timedelta64[s]")
    order_ids = np.arange(1, orders + 1)
    order_customer = rng.integers(1, customers + 1, orders)
    with bulk_transaction(engine) as connection:
        append(connection, Customer.__table__, people)
        append(
            connection,
            SourceRecord.__table__,
            pl.DataFrame({"id": ids, "customer_id": ids}).with_columns(
                pl.lit("web").alias("source"),
                pl.col("id").cast(pl.String).alias("external_id"),
                now.alias("imported_at"),
                now.alias("updated_at"),
            ),
        )
        append(
            connection,
            Order.__table__,
            pl.DataFrame(
                {
                    "id": order_ids,
                    "source": "web",
                    "external_id": [f"O{i}" for i in order_ids],
                    "customer_id": order_customer,
                    "source_record_id": order_customer,
                    "ordered_at": pl.Series(
                        ordered_at.astype("datetime64[us]")
                    ).dt.replace_time_zone("UTC"),
                    "currency": "USD",
                    "amount_minor": (rng.gamma(4, 900, orders)).astype(np.int64) + 100,
                    "discount_minor": 0,
                    "status": "completed",
                }
            ),
        )
        kv.put_setting(connection, ENABLED_KEY, True, AS_OF)


def timed(label: str, work, results: dict[str, float]):  # noqa: ANN001, ANN201
    started = time.perf_counter()
    outcome = work()
    results[label] = time.perf_counter() - started
    print(f"{label:<28} {results[label]:7.2f} s   {outcome}", flush=True)
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        if args.backend == "sqlite":
            url = f"sqlite:///{Path(scratch) / 'loyalty.db'}"
        else:
            url = os.environ.get("RELMARK_BENCH_POSTGRES_URL", "")
            if not url:
                sys.exit("set RELMARK_BENCH_POSTGRES_URL to an empty PostgreSQL database")
        engine = make_engine(url)
        upgrade(engine)
        ensure_current(engine)
        started = time.perf_counter()
        build(engine, args.orders)
        print(f"built {args.orders:,} orders in {time.perf_counter() - started:.1f} s")
        programme = load_programme()
        results: dict[str, float] = {}
        first = timed("first posting", lambda: run_posting(engine, programme, AS_OF), results)
        timed("re-run (nothing new)", lambda: run_posting(engine, programme, AS_OF), results)
        with engine.begin() as connection:
            connection.execute(text("UPDATE orders SET status = 'refunded' WHERE id % 25 = 0"))
        timed("refunds (4 %) reversed", lambda: run_posting(engine, programme, AS_OF), results)
        later = AS_OF + timedelta(days=730)
        timed("expiry two years on", lambda: run_posting(engine, programme, later), results)
        per_second = first.orders_posted / results["first posting"]
        verdict = "met" if results["first posting"] <= 30 * args.orders / 1_000_000 else "NOT met"
        print(
            f"\n{first.orders_posted:,} orders posted at {per_second:,.0f} orders/s; "
            f"goal 30 s per 1,000,000 orders: {verdict} at this size"
        )
        engine.dispose()


if __name__ == "__main__":
    main()
