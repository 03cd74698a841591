"""Four `relmark run` processes on one PostgreSQL store while orders are imported: every
occasion is decided once and every message sent once (counted by a real SMTP server)."""

from __future__ import annotations

import email
import signal
import threading
from collections import Counter
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

from relmark.interact.sink import MailSink
from relmark.store.db import normalise_url

from .conftest import (
    log_says,
    playbooks,
    scalar,
    shop_customers,
    shop_orders,
    start_engine,
    stop,
    wait_for,
)

CUSTOMERS = 60


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
@pytest.mark.postgres
def test_four_engines_and_concurrent_imports_decide_and_send_each_message_once(
    engine: Engine, store_url: str, tmp_path: Path, processes
) -> None:
    store, url = engine, store_url  # engines are killed (if need be) before the schema goes
    shop_customers(store, tmp_path, CUSTOMERS)
    books = playbooks(tmp_path)

    with MailSink(tmp_path / "mail") as sink:
        logs = [tmp_path / f"engine{i}.log" for i in range(4)]
        for log in logs:
            processes.append(start_engine(url, books, sink.port, log=log))
        wait_for(lambda: all(log_says(log, "started") for log in logs), "four engines")

        # orders arrive in four concurrent imports while the engines plan and send
        batches = [range(i, CUSTOMERS, 4) for i in range(4)]
        imports = [
            threading.Thread(target=_import_orders, args=(url, tmp_path, batch))
            for batch in batches
        ]
        for thread in imports:
            thread.start()
        for thread in imports:
            thread.join(timeout=300)

        def all_sent() -> bool:
            unsent = "SELECT COUNT(*) FROM messages WHERE status IN ('planned', 'sending')"
            return scalar(store, unsent) == 0 and sink.received >= CUSTOMERS

        wait_for(lambda: scalar(store, "SELECT COUNT(*) FROM messages") >= CUSTOMERS, "plans")
        wait_for(all_sent, "every message sent")
        for process in processes:
            assert stop(process, signal.SIGTERM) == 0

    per_order = scalar(
        store,
        "SELECT COUNT(*) FROM (SELECT occasion FROM messages GROUP BY occasion "
        "HAVING COUNT(*) = 1) AS once",
    )
    assert per_order == CUSTOMERS  # every order's occasion decided exactly once
    assert scalar(store, "SELECT COUNT(*) FROM messages WHERE status = 'sent'") == CUSTOMERS
    received = Counter(
        str(email.message_from_bytes(p.read_bytes(), policy=policy.default)["Message-ID"])
        for p in (tmp_path / "mail").glob("*.eml")
    )
    assert len(received) == CUSTOMERS
    assert set(received.values()) == {1}
    assert any(log_says(log, "relmark run: sent") for log in logs)
    started = scalar(store, "SELECT COUNT(*) FROM engine_instances WHERE stopped_at IS NOT NULL")
    assert started == 4


def _import_orders(url: str, folder: Path, batch: range) -> None:
    engine = create_engine(normalise_url(url))
    try:
        for i in batch:
            shop_orders(engine, folder, range(i, i + 1))
    finally:
        engine.dispose()
