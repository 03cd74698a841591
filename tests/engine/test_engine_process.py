"""`relmark run` as a real process on SQLite: it plans what arrives, sends it, stops cleanly
on SIGTERM, loses nothing to SIGKILL, and a second engine on the same store refuses."""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import Engine

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

SENT = "SELECT COUNT(*) FROM messages WHERE status = 'sent'"
UNSENT = "SELECT COUNT(*) FROM messages WHERE status IN ('planned', 'sending')"


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_an_order_imported_while_the_engine_runs_is_planned_and_sent(
    sqlite_engine: Engine, tmp_path: Path, smtp, processes
) -> None:
    inbox, port = smtp()
    shop_customers(sqlite_engine, tmp_path, 3)
    log = tmp_path / "engine.log"
    engine_process = start_engine(url_of(sqlite_engine), playbooks(tmp_path), port, log=log)
    processes.append(engine_process)
    wait_for(lambda: log_says(log, "plan: planned"), "the first full plan")

    shop_orders(sqlite_engine, tmp_path, range(2))  # while the engine runs

    wait_for(lambda: scalar(sqlite_engine, SENT) == 2, "two thank-yous sent")
    keys = scalar(sqlite_engine, "SELECT group_concat(occasion) FROM messages")
    assert sorted(keys.split(",")) == ["order:1", "order:2"]
    assert log_says(log, "new order(s)")
    assert len(inbox.messages) == 2
    assert stop(engine_process) == 0
    assert log_says(log, "stopped")
    assert (
        scalar(sqlite_engine, "SELECT COUNT(*) FROM engine_instances WHERE stopped_at IS NULL") == 0
    )


def test_sigterm_finishes_the_message_in_flight_then_exits_0(
    sqlite_engine: Engine, tmp_path: Path, smtp, processes
) -> None:
    inbox, port = smtp(0.5)
    shop_customers(sqlite_engine, tmp_path, 20)
    shop_orders(sqlite_engine, tmp_path, range(20))
    log = tmp_path / "engine.log"
    engine_process = start_engine(url_of(sqlite_engine), playbooks(tmp_path), port, log=log)
    processes.append(engine_process)
    wait_for(lambda: len(inbox.messages) >= 2, "sending under way")

    assert stop(engine_process, signal.SIGTERM) == 0

    sent = scalar(sqlite_engine, SENT)
    assert scalar(sqlite_engine, "SELECT COUNT(*) FROM messages WHERE status = 'sending'") == 0
    assert 2 <= sent < 20  # stopped early, after the message in flight
    assert len(inbox.messages) == sent  # everything received is recorded as sent
    assert log_says(log, "SIGTERM: stopping")


def test_sigkill_then_restart_sends_each_message_once(
    sqlite_engine: Engine, tmp_path: Path, smtp, processes
) -> None:
    inbox, port = smtp(0.3)
    shop_customers(sqlite_engine, tmp_path, 12)
    shop_orders(sqlite_engine, tmp_path, range(12))
    books = playbooks(tmp_path)
    url = url_of(sqlite_engine)
    options = ("--lease-seconds", "2", "--reclaim-after", "0")
    first = start_engine(url, books, port, *options)
    processes.append(first)
    wait_for(lambda: len(inbox.messages) >= 3, "sending under way")

    stop(first, signal.SIGKILL)
    time.sleep(3)  # the killed engine's 2 s lease lapses: only then may another take over
    log = tmp_path / "second.log"
    second = start_engine(url, books, port, *options, log=log)
    processes.append(second)
    wait_for(lambda: scalar(sqlite_engine, UNSENT) == 0 and len(inbox.messages) >= 12, "all sent")
    assert stop(second) == 0

    assert scalar(sqlite_engine, SENT) == 12
    received = Counter(inbox.message_ids())
    assert len(received) == 12  # every message arrived
    # at most the one in flight at the kill arrived twice, with the same Message-ID
    assert sum(received.values()) - 12 <= 1


def test_a_second_engine_on_a_sqlite_store_refuses_until_the_first_is_silent(
    sqlite_engine: Engine, tmp_path: Path, smtp, processes
) -> None:
    _, port = smtp()
    shop_customers(sqlite_engine, tmp_path, 1)
    books = playbooks(tmp_path)
    url = url_of(sqlite_engine)
    log = tmp_path / "first.log"
    first = start_engine(url, books, port, "--lease-seconds", "3", log=log)
    processes.append(first)
    wait_for(lambda: log_says(log, "started"), "the first engine")

    second = start_engine(url, books, port, "--once", "--lease-seconds", "3")
    processes.append(second)
    _, err = second.communicate(timeout=120)
    assert second.returncode == 1
    assert b"another engine runs on this store" in err
    assert first.poll() is None  # the first one goes on

    stop(first, signal.SIGKILL)
    # refused while the killed engine's heartbeat is fresh, taken over once it is stale
    outcomes = []
    while not outcomes or outcomes[-1][0] != 0:
        again = start_engine(url, books, port, "--once", "--lease-seconds", "3")
        processes.append(again)
        _, err = again.communicate(timeout=120)
        outcomes.append((again.returncode, err.decode()))
        assert len(outcomes) < 100
    assert all("another engine runs" in e for rc, e in outcomes[:-1])
    assert "took over from engine 1" in outcomes[-1][1]
