"""Engine latency: from an order posted to /v1/batch to its thank-you decision in the outbox.

Goal (issue 13): p95 ≤ 5 s over 1,000 orders with the engine running, on a demo-sized store
(5,000 customers, three years of orders). `relmark serve --engine` runs in its own process
(uvicorn and the engine in one, the one-process set-up); orders are posted one per request at
a steady rate by a Python sender while a watcher polls the outbox every 50 ms. The shipped
playbooks are used as they are: the engine decides a new order's thank-you (due three days
on) when the order arrives.

    python benchmarks/engine_latency.py [--customers 5000] [--orders 1000] [--rate 10]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import text

from relmark import accounts
from relmark.accounts import Role
from relmark.store.db import make_engine
from relmark.store.migrate import upgrade

DATA = Path(__file__).with_name(".data")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fresh_store(customers: int) -> Path:
    """A demo store built once, copied for each run (the engine writes to it)."""
    kept = DATA / f"engine-{customers // 1000}k.db"
    if not kept.exists():
        DATA.mkdir(exist_ok=True)
        command = [sys.executable, "-m", "relmark", "demo", "--customers", str(customers)]
        command += ["--no-serve", "--db", f"sqlite:///{kept}"]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    store = DATA / f"engine-run-{uuid.uuid4().hex[:8]}.db"
    shutil.copy(kept, store)
    engine = make_engine(f"sqlite:///{store}")
    upgrade(engine)
    engine.dispose()
    return store


def batch(i: int, at: datetime) -> dict:
    stamp = at.isoformat().replace("+00:00", "Z")
    user = f"bench-{i}"
    return {
        "batch": [
            {
                "type": "identify",
                "userId": user,
                "traits": {"email": f"{user}@example.com", "firstName": "Bench"},
                "messageId": f"i-{user}",
                "timestamp": stamp,
            },
            {
                "type": "track",
                "userId": user,
                "event": "Order Completed",
                "properties": {"order_id": f"B-{i}", "total": 21.5, "currency": "GBP"},
                "messageId": f"o-{user}",
                "timestamp": stamp,
            },
        ]
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=10.0, help="orders posted per second")
    args = parser.parse_args()

    store = fresh_store(args.customers)
    url = f"sqlite:///{store}"
    engine = make_engine(url)
    key = accounts.create_key(engine, Role.INGEST, "bench", datetime.now(UTC))[1]
    port = free_port()
    log = DATA / "engine-latency.log"
    env = {k: v for k, v in os.environ.items() if k != "RELMARK_PLAYBOOKS_DIR"}
    env.pop("RELMARK_SMTP_HOST", None)  # decisions are measured, not delivery
    command = [sys.executable, "-m", "relmark", "serve", "--engine", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--db", url], stdout=subprocess.DEVNULL, stderr=log.open("wb"), env=env
    )
    posted: dict[str, float] = {}
    decided: dict[str, float] = {}
    done = threading.Event()
    try:
        wait_until_up(port)
        watcher = threading.Thread(target=watch, args=(engine, decided, done), daemon=True)
        watcher.start()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", auth=(key, "")) as client:
            interval = 1.0 / args.rate
            next_at = time.monotonic()
            for i in range(args.orders):
                time.sleep(max(0.0, next_at - time.monotonic()))
                next_at += interval
                posted[f"B-{i}"] = time.monotonic()
                client.post("/v1/batch", json=batch(i, datetime.now(UTC))).raise_for_status()
        deadline = time.monotonic() + 300
        while len(decided) < len(posted) and time.monotonic() < deadline:
            time.sleep(0.2)
        done.set()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=120)
        engine.dispose()
        store.unlink(missing_ok=True)
    latencies = sorted(decided[o] - posted[o] for o in posted if o in decided)
    missing = len(posted) - len(latencies)
    p50 = statistics.median(latencies)
    p95 = latencies[max(0, int(round(0.95 * len(latencies))) - 1)]
    print(
        f"engine latency, {args.customers:,}-customer demo store, {args.orders:,} orders at "
        f"{args.rate:g}/s through /v1/batch: p50 {p50:.2f} s, p95 {p95:.2f} s, "
        f"max {latencies[-1]:.2f} s, undecided {missing}"
    )
    plans = [line for line in log.read_text().splitlines() if "new order(s)" in line]
    print(f"arrival plans: {len(plans)} (engine log: {log})")


def wait_until_up(port: int) -> None:
    for _ in range(600):
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


def watch(engine, decided: dict[str, float], done: threading.Event) -> None:  # noqa: ANN001
    """Note when each benchmark order's thank-you decision (planned or held) appears."""
    with engine.connect() as connection:
        baseline = last_order = connection.execute(text("SELECT MAX(id) FROM orders")).scalar()
        last_message = connection.execute(text("SELECT MAX(id) FROM messages")).scalar() or 0
    orders: dict[str, str] = {}  # "order:<id>" → the benchmark's order number
    new_orders = text(
        "SELECT id, external_id FROM orders WHERE id > :last AND external_id LIKE 'B-%'"
    )
    new_messages = text(
        "SELECT id, occasion FROM messages WHERE id > :last AND playbook = 'thank-you'"
    )
    pending: list[str] = []
    while not done.is_set():
        with engine.connect() as connection:
            for order_id, number in connection.execute(new_orders, {"last": last_order}):
                orders[f"order:{order_id}"] = number
                last_order = max(last_order, order_id)
            rows = connection.execute(new_messages, {"last": last_message}).all()
        seen = time.monotonic()
        pending += [occasion for _, occasion in rows]
        last_message = max([last_message, *(m for m, _ in rows)])
        waiting = []
        for occasion in pending:
            if occasion in orders:
                decided.setdefault(orders[occasion], seen)
            elif occasion.startswith("order:") and int(occasion[6:]) > baseline:
                waiting.append(occasion)  # an order read after its message: next round
        pending = waiting
        time.sleep(0.05)


if __name__ == "__main__":
    main()
