"""Engines as real processes (`python -m relmark run`), a shop to feed them, and SMTP servers
that receive what they send."""

from __future__ import annotations

import asyncio
import email
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from email import policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, text

from ..helpers import run_import, write_csv
from ..interact.conftest import CUSTOMERS, SECRET, book, free_port

SRC = Path(__file__).resolve().parents[2] / "src"
AS_OF = "2026-06-01T12:00:00+00:00"
ORDERED_AT = "2026-06-01T10:00:00Z"
THANKS = book("thanks", purpose="service", trigger={"on": "order", "delay_days": 0})


class SlowInbox:
    """A real SMTP server that takes `delay` seconds to accept each message, so a test can
    signal an engine while a message is in flight."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
        if self.delay:
            await asyncio.sleep(self.delay)
        self.messages.append(envelope.content)
        return "250 OK"

    def message_ids(self) -> list[str]:
        return [
            str(email.message_from_bytes(raw, policy=policy.default)["Message-ID"])
            for raw in list(self.messages)
        ]


@pytest.fixture
def smtp() -> Iterator[Callable[[float], tuple[SlowInbox, int]]]:
    started: list[Controller] = []

    def start(delay: float = 0.0) -> tuple[SlowInbox, int]:
        handler = SlowInbox(delay)
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        started.append(controller)
        return handler, port

    yield start
    for controller in started:
        controller.stop()


def playbooks(folder: Path) -> Path:
    books = folder / "playbooks"
    books.mkdir(exist_ok=True)
    (books / "thanks.toml").write_text(THANKS, encoding="utf-8")
    return books


def shop_customers(engine: Engine, folder: Path, n: int, start: int = 0) -> None:
    rows = [
        [f"C{i}", f"c{i}@example.si", "", f"Ime{i}", "sl", "SI", "UTC", "", "", "yes"]
        for i in range(start, start + n)
    ]
    run_import(engine, "customers", write_csv(folder, f"c{start}.csv", CUSTOMERS, rows))
    path = write_csv(
        folder, "p.csv", ["sku", "name", "category", "howto_url"], [["TEA", "Tea", "tea", ""]]
    )
    run_import(engine, "products", path)


def shop_orders(engine: Engine, folder: Path, customers: range) -> None:
    header = ["order_id", "customer_id", "ordered_at", "currency", "status", "sku"]
    header += ["quantity", "unit_price"]
    rows = [[f"O{i}", f"C{i}", ORDERED_AT, "EUR", "completed", "TEA", 1, "4.20"] for i in customers]
    name = f"o{customers.start}-{customers.stop}.csv"
    run_import(engine, "orders", write_csv(folder, name, header, rows))


def start_engine(
    url: str, books: Path, smtp_port: int, *extra: str, log: Path | None = None
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "RELMARK_SMTP_HOST": "127.0.0.1",
        "RELMARK_SMTP_PORT": str(smtp_port),
        "RELMARK_SMTP_FROM": "Brew & Co <hello@brew.example>",
        "RELMARK_SECRET_KEY": SECRET,
        "RELMARK_PUBLIC_URL": "https://brew.example",
    }
    command = [sys.executable, "-m", "relmark", "run", "--db", url, "--playbooks", str(books)]
    command += ["--as-of", AS_OF, "--poll", "0.2", *extra]
    err = log.open("wb") if log else subprocess.PIPE
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err, env=env)


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 180.0) -> Any:
    """Poll until `condition()` is truthy; the timeout only guards against a hang."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def log_says(path: Path, words: str) -> bool:
    return path.exists() and words in path.read_text(errors="replace")


def stop(process: subprocess.Popen[bytes], sig: signal.Signals = signal.SIGTERM) -> int:
    if process.poll() is None:
        process.send_signal(sig)
    return process.wait(timeout=120)


def scalar(engine: Engine, sql: str) -> Any:
    with engine.connect() as connection:
        return connection.execute(text(sql)).scalar()


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Engines a test started: killed at the end whatever happened."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
