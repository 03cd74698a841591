"""Interact speed: planning every playbook over a large store, and delivery over SMTP.

Goals (issue 5): planning over 1,000,000 customers with 5,000,000 orders (all playbooks,
consent, caps) within 20 s on 2 cores; delivery of at least 200 e-mails/s to a local SMTP
server. No peer is named for either, so the script prints the figures against the goals.

The store is generated directly (customers, records, orders with lines, consents, a score run)
and kept in benchmarks/.data for later runs. Scores are synthetic draws, not a model fit:
planning reads a score run, it does not make one. The SMTP server is aiosmtpd's Sink in its
own process, so the sender does not share the interpreter with the receiver.

    python benchmarks/interact.py [--customers 1000000] [--orders 5000000] [--send 5000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
from sqlalchemy import Engine, text

from relmark.config import Settings
from relmark.enums import RFM_SEGMENTS
from relmark.interact.delivery import SendOptions, SmtpTransport
from relmark.interaction import Interaction
from relmark.store.bulk import append
from relmark.store.db import bulk_transaction, make_engine
from relmark.store.migrate import ensure_current
from relmark.store.models import (
    Consent,
    Customer,
    CustomerScore,
    Order,
    OrderLine,
    Product,
    ScoreRun,
    SourceRecord,
)

DATA = Path(__file__).with_name(".data")
AS_OF = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
LOCALES = [
    ("en-GB", "GB", "Europe/London"),
    ("ms-MY", "MY", "Asia/Kuala_Lumpur"),
    ("kk-KZ", "KZ", "Asia/Almaty"),
    ("tl", "PH", "Asia/Manila"),
    ("uk-UA", "UA", "Europe/Kyiv"),
    ("sl-SI", "SI", "Europe/Ljubljana"),
]


def build(path: Path, customers: int, orders: int, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    engine = make_engine(f"sqlite:///{path}")
    ensure_current(engine)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    span = int((AS_OF - start).total_seconds())
    ids = np.arange(1, customers + 1)
    locale = rng.integers(0, len(LOCALES), customers)
    born = np.datetime64("1950-01-01") + rng.integers(0, 50 * 365, customers).astype(
        "timedelta64[D]"
    )
    since = np.datetime64(start.replace(tzinfo=None), "s") + rng.integers(
        0, span, customers
    ).astype("timedelta64[s]")
    now = pl.lit(AS_OF, dtype=pl.Datetime("us", "UTC"))
    people = pl.DataFrame(
        {
            "id": ids,
            "first_record_id": ids,
            "first_name": [f"N{i}" for i in ids],
            "email": [f"c{i}@example.com" for i in ids],
            "language": [LOCALES[i][0] for i in locale],
            "country": [LOCALES[i][1] for i in locale],
            "timezone": [LOCALES[i][2] for i in locale],
            "birthday": pl.Series(born),
            "customer_since": pl.Series(since.astype("datetime64[us]")).dt.replace_time_zone("UTC"),
        }
    ).with_columns(now.alias("created_at"), now.alias("updated_at"))
    order_customer = rng.integers(1, customers + 1, orders)
    ordered_at = np.datetime64(start.replace(tzinfo=None), "s") + rng.integers(
        0, span, orders
    ).astype("timedelta64[s]")
    order_ids = np.arange(1, orders + 1)
    skus = rng.integers(0, 200, orders)
    with bulk_transaction(engine) as connection:
        append(connection, Customer.__table__, people)
        append(
            connection,
            SourceRecord.__table__,
            people.drop("first_record_id")
            .with_columns(
                pl.lit("web").alias("source"),
                pl.col("id").cast(pl.String).alias("external_id"),
                pl.col("id").alias("customer_id"),
                now.alias("imported_at"),
            )
            .drop("created_at"),
        )
        append(
            connection,
            Product.__table__,
            pl.DataFrame(
                {
                    "id": np.arange(1, 201),
                    "sku": [f"SKU{i}" for i in range(200)],
                    "name": [f"Product {i}" for i in range(200)],
                    "category": [f"cat{i % 12}" for i in range(200)],
                    "howto_url": [
                        f"https://videos.example/{i}" if i % 4 == 0 else None for i in range(200)
                    ],
                }
            ),
        )
        amounts = (rng.gamma(4, 900, orders)).astype(np.int64) + 100
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
                    "currency": "EUR",
                    "amount_minor": amounts,
                    "discount_minor": 0,
                    "status": rng.choice(["completed", "refunded"], orders, p=[0.96, 0.04]),
                }
            ),
        )
        append(
            connection,
            OrderLine.__table__,
            pl.DataFrame(
                {
                    "order_id": order_ids,
                    "line_no": 1,
                    "product_id": skus + 1,
                    "sku": [f"SKU{i}" for i in skus],
                    "quantity": 1,
                    "unit_price_minor": amounts,
                }
            ),
        )
        consent = rng.choice(["granted", "withdrawn", None], customers, p=[0.8, 0.08, 0.12])
        given = pl.DataFrame({"customer_id": ids, "status": consent}).drop_nulls()
        append(
            connection,
            Consent.__table__,
            given.with_columns(
                pl.col("customer_id").alias("source_record_id"),
                pl.lit("marketing").alias("purpose"),
                pl.lit("email").alias("channel"),
                pl.lit("consent").alias("lawful_basis"),
                pl.lit("web").alias("source"),
                pl.lit("signup form").alias("proof"),
                now.alias("recorded_at"),
            ),
        )
        run_id = connection.execute(
            text(
                "INSERT INTO score_runs (as_of, created_at, model, params, settings, currency, "
                "input_fingerprint, n_customers) VALUES (:at, :at, 'bgnbd', '{}', '{}', 'EUR', "
                "'synthetic', :n) RETURNING id"
            ),
            {"at": AS_OF.strftime("%Y-%m-%d %H:%M:%S.%f"), "n": customers},
        ).scalar_one()
        segment_share = [0.15, 0.04, 0.12, 0.18, 0.03, 0.04, 0.08, 0.07, 0.05, 0.08, 0.16]
        scored = pl.DataFrame(
            {
                "run_id": run_id,
                "customer_id": ids,
                "orders": rng.integers(1, 12, customers),
                "revenue_minor": rng.gamma(2, 20000, customers).astype(np.int64),
                "days_since_last": rng.integers(0, 1000, customers),
                "frequency": rng.integers(0, 10, customers),
                "recency": rng.random(customers) * 100,
                "age": rng.random(customers) * 150,
                "r": rng.integers(1, 6, customers),
                "f": rng.integers(1, 6, customers),
                "m": rng.integers(1, 6, customers),
                "segment": rng.choice(list(RFM_SEGMENTS), customers, p=segment_share),
                "explanation": "synthetic",
                "p_alive": rng.beta(2, 1.5, customers),
                "expected_purchases": rng.random(customers) * 3,
                "expected_spend_minor": rng.integers(500, 9000, customers),
                "clv_minor": rng.gamma(2, 15000, customers).astype(np.int64),
                "gross_margin_minor": rng.integers(0, 9000, customers),
                "cost_to_serve_minor": rng.integers(0, 2000, customers),
                "profit_minor": rng.integers(-2000, 9000, customers),
                "profit_tier": rng.choice(["A", "B", "C", "D"], customers),
                "below_standard": rng.random(customers) < 0.1,
            }
        )
        append(connection, CustomerScore.__table__, scored)
        connection.execute(ScoreRun.__table__.update().values(n_customers=customers))
    engine.dispose()


def interaction(engine: Engine) -> Interaction:
    """The shipped playbooks, every one on: the shop has configured its offers (a new
    store leaves those off), so the plan covers all nine as the goal says."""
    from relmark.demo.offers import enable_offers

    relmark = Interaction(engine, Settings(secret_key="benchmark-secret-0123456789"))
    enable_offers(relmark, datetime.now(UTC))
    return relmark


def time_plan(path: Path) -> dict[str, object]:
    engine = make_engine(f"sqlite:///{path}")
    relmark = interaction(engine)
    started = time.perf_counter()
    result = relmark.plan(AS_OF, AS_OF)
    seconds = time.perf_counter() - started
    engine.dispose()
    return {
        "seconds": round(seconds, 2),
        "candidates": result.candidates,
        "planned": result.planned,
        "held": result.held,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def time_send(path: Path, count: int) -> dict[str, object]:
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        engine = make_engine(f"sqlite:///{path}")
        relmark = interaction(engine)
        later = AS_OF + timedelta(days=1)
        started = time.perf_counter()
        report = relmark.send(
            SendOptions(as_of=lambda: later, limit=count),
            transports={"email": SmtpTransport("127.0.0.1", port)},
        )
        seconds = time.perf_counter() - started
        engine.dispose()
    finally:
        server.terminate()
        server.wait()
    return {
        "sent": report.sent,
        "seconds": round(seconds, 2),
        "per_second": round(report.sent / seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=5_000_000)
    parser.add_argument("--send", type=int, default=5000)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)
    store = DATA / f"interact-{args.customers}-{args.orders}.db"
    if args.rebuild or not store.exists():
        store.unlink(missing_ok=True)
        started = time.perf_counter()
        build(store, args.customers, args.orders)
        print(f"built {store.name} in {time.perf_counter() - started:.1f} s")
    work = DATA / "interact-work.db"
    shutil.copyfile(store, work)
    for suffix in ("-wal", "-shm"):
        Path(str(work) + suffix).unlink(missing_ok=True)
    try:
        plan = time_plan(work)
        print(f"plan: {json.dumps(plan)}")
        print(
            f"  goal ≤ 20 s: {'met' if plan['seconds'] <= 20 else 'NOT met'} "
            f"({plan['seconds']} s; {os.cpu_count()} cores)"
        )
        send = time_send(work, args.send)
        print(f"send: {json.dumps(send)}")
        print(f"  goal ≥ 200/s: {'met' if send['per_second'] >= 200 else 'NOT met'}")
    finally:
        work.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
