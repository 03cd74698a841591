"""Web speed: page and API latency under load, and tracking ingest through /v1/batch.

Goals (issue 6), on a 100,000-customer demo store: p95 < 200 ms for the overview, segment and
customer pages and the API list endpoints with 20 concurrent clients on loopback; tracking
ingest of at least 2,000 events/s through /v1/batch with zero loss (sent = stored). No peer
is named. `relmark serve --workers 2` runs in its own processes; page and API latency is
measured with ApacheBench (`ab`, apt package apache2-utils), tracking with Python senders.

    python benchmarks/web.py [--customers 100000] [--requests 2000] [--events 20000]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from relmark import accounts
from relmark.accounts import Role
from relmark.store.db import make_engine
from relmark.store.migrate import upgrade

DATA = Path(__file__).with_name(".data")
PASSWORD = "benchmark-password"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ensure_store(customers: int) -> Path:
    store = DATA / f"web-{customers // 1000}k.db"
    if not store.exists():
        DATA.mkdir(exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "relmark",
                "demo",
                "--customers",
                str(customers),
                "--no-serve",
                "--db",
                f"sqlite:///{store}",
                "--as-of",
                "2026-11-20",
            ],
            check=True,
        )
    return store


def prepare(store: Path) -> dict[str, str]:
    engine = make_engine(f"sqlite:///{store}")
    upgrade(engine)  # a store kept from an older run gets this version's schema
    now = datetime.now(UTC)
    email = f"bench{int(time.time())}@example.com"
    accounts.add_user(engine, email, PASSWORD, Role.ADMIN, now)
    keys = {
        "viewer": accounts.create_key(engine, Role.VIEWER, "bench", now)[1],
        "ingest": accounts.create_key(engine, Role.INGEST, "bench", now)[1],
    }
    engine.dispose()
    return {"email": email, **keys}


def serve(store: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "relmark",
            "serve",
            "--port",
            str(port),
            "--db",
            f"sqlite:///{store}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/login", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("relmark serve did not start")


def customer_ids(store: Path, n: int = 500) -> list[int]:
    with sqlite3.connect(store) as connection:
        rows = connection.execute(
            "SELECT customer_id FROM customer_scores ORDER BY customer_id LIMIT ?", (n,)
        ).fetchall()
    return [int(r[0]) for r in rows]


def grab(pattern: str, output: str) -> float:
    found = re.search(pattern, output, re.M)
    return float(found.group(1)) if found else float("nan")


def load(base: str, creds: dict[str, str], ids: list[int], requests: int, clients: int) -> dict:
    """Each endpoint under `clients` concurrent keep-alive connections, measured by
    ApacheBench (a C client, so that the load generator does not eat the server's CPU)."""
    session = httpx.post(
        f"{base}/login",
        data={"email": creds["email"], "password": PASSWORD},
        follow_redirects=False,
    ).cookies["relmark_session"]
    bearer = ["-H", f"Authorization: Bearer {creds['viewer']}"]
    cookie = ["-C", f"relmark_session={session}"]
    endpoints = {
        "page /": (cookie, "/"),
        "page /customers?segment=champions": (cookie, "/customers?segment=champions"),
        "page /customers/{id}": (cookie, f"/customers/{random.choice(ids)}"),
        "api /api/v1/customers": (bearer, "/api/v1/customers?per_page=50"),
        "api /api/v1/customers?q=an": (bearer, "/api/v1/customers?q=an&per_page=50"),
        "api /api/v1/customers?segment=at_risk": (
            bearer,
            "/api/v1/customers?segment=at_risk&sort=p_alive&per_page=50",
        ),
        "api /api/v1/messages": (bearer, "/api/v1/messages?per_page=50"),
        "api /api/v1/segments": (bearer, "/api/v1/segments"),
    }
    report = {}
    for name, (auth, path) in endpoints.items():
        output = subprocess.run(
            ["ab", "-q", "-k", "-c", str(clients), "-n", str(requests), *auth, f"{base}{path}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout

        report[name] = {
            "requests": requests,
            "non_2xx": int(
                grab(r"^Non-2xx responses:\s+(\d+)", output) if "Non-2xx" in output else 0
            ),
            "per_second": grab(r"^Requests per second:\s+([\d.]+)", output),
            "p50_ms": grab(r"^\s+50%\s+(\d+)", output),
            "p95_ms": grab(r"^\s+95%\s+(\d+)", output),
        }
    return report


def tracking(base: str, key: str, events: int, senders: int, store: Path) -> dict:
    batches = [
        {
            "batch": [
                {
                    "type": "track",
                    "userId": f"bench-user-{(b * 100 + i) % 5000}",
                    "event": "Product Viewed",
                    "properties": {"sku": f"SKU{i}"},
                    "messageId": f"bench-{int(time.time())}-{b}-{i}",
                    "timestamp": "2026-11-20T10:00:00Z",
                }
                for i in range(100)
            ]
        }
        for b in range(events // 100)
    ]
    queue = list(enumerate(batches))
    lock = threading.Lock()
    failures: list[int] = []

    def sender() -> None:
        with httpx.Client(base_url=base, auth=(key, ""), timeout=60) as c:
            while True:
                with lock:
                    if not queue:
                        return
                    _, body = queue.pop()
                response = c.post("/v1/batch", json=body)
                if response.status_code != 200:
                    failures.append(response.status_code)

    with sqlite3.connect(store) as connection:
        before = connection.execute("SELECT COUNT(*) FROM tracked_messages").fetchone()[0]
    started = time.perf_counter()
    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    with sqlite3.connect(store) as connection:
        after = connection.execute("SELECT COUNT(*) FROM tracked_messages").fetchone()[0]
    sent = len(batches) * 100
    return {
        "sent": sent,
        "stored": after - before,
        "failed_requests": len(failures),
        "seconds": round(seconds, 2),
        "events_per_second": round(sent / seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2000, help="per endpoint")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--senders", type=int, default=4)
    args = parser.parse_args()
    store = ensure_store(args.customers)
    creds = prepare(store)
    port = free_port()
    server = serve(store, port, args.workers)
    base = f"http://127.0.0.1:{port}"
    try:
        latency = load(base, creds, customer_ids(store), args.requests, args.clients)
        print(json.dumps(latency, indent=2))
        worst = max(v["p95_ms"] for v in latency.values())
        print(f"  goal p95 < 200 ms: {'met' if worst < 200 else 'NOT met'} (worst {worst} ms)")
        ingest = tracking(base, creds["ingest"], args.events, args.senders, store)
        print(json.dumps(ingest))
        ok = ingest["events_per_second"] >= 2000 and ingest["stored"] == ingest["sent"]
        print(f"  goal ≥ 2,000 events/s, zero loss: {'met' if ok else 'NOT met'}")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
