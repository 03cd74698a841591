"""An engine paused past its lease (SIGSTOP) is declared dead and taken over. When it wakes
(SIGCONT): on PostgreSQL it registers again and goes on sharing the work; on SQLite, where one
engine runs at a time, it exits with a failure so that `Restart=on-failure` restarts it.
Real processes, real signals."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url, text

from relmark.interact.sink import MailSink

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

LEASE = ("--lease-seconds", "2")


def pause_while_idle(process: subprocess.Popen[bytes], idle: Callable[[], bool]) -> None:
    """SIGSTOP the engine at a moment it holds no lock in the store (a paused engine in
    the middle of a write would make every other engine wait, not take over)."""
    for _ in range(200):
        process.send_signal(signal.SIGSTOP)
        if idle():
            return
        process.send_signal(signal.SIGCONT)
        time.sleep(0.05)
    raise AssertionError("the engine never paused outside a transaction")


def test_on_sqlite_an_engine_taken_over_exits_with_a_failure(
    sqlite_engine: Engine, tmp_path: Path, smtp, processes
) -> None:
    _, port = smtp()
    shop_customers(sqlite_engine, tmp_path, 1)
    books = playbooks(tmp_path)
    url = sqlite_engine.url.render_as_string(hide_password=False)
    log = tmp_path / "first.log"
    first = start_engine(url, books, port, *LEASE, log=log)
    processes.append(first)
    wait_for(lambda: log_says(log, "plan: planned"), "the first engine at work")

    def no_writer() -> bool:
        probe = sqlite3.connect(str(sqlite_engine.url.database), timeout=0.2)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.rollback()
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            probe.close()

    pause_while_idle(first, no_writer)
    time.sleep(3)  # silent past its 2 s lease
    second = start_engine(url, books, port, "--once", *LEASE)
    processes.append(second)
    _, err = second.communicate(timeout=120)
    assert second.returncode == 0
    assert b"took over from engine 1" in err

    first.send_signal(signal.SIGCONT)

    assert first.wait(timeout=60) == 1  # not 0: a supervisor restarts it
    assert log_says(log, "engine 1 was declared dead by another engine on this SQLite store")
    assert log_says(log, "one engine at a time")


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
@pytest.mark.postgres
def test_on_postgresql_an_engine_taken_over_registers_again_and_goes_on(
    engine: Engine, store_url: str, tmp_path: Path, processes
) -> None:
    store = engine
    shop_customers(store, tmp_path, 4)
    books = playbooks(tmp_path)
    name = "relmark-paused-engine"
    paused_url = make_url(store_url).update_query_dict({"application_name": name})
    with MailSink(tmp_path / "mail") as sink:
        logs = [tmp_path / "paused.log", tmp_path / "other.log"]
        paused = start_engine(
            paused_url.render_as_string(hide_password=False),
            books,
            sink.port,
            *LEASE,
            log=logs[0],
        )
        processes.append(paused)
        wait_for(lambda: log_says(logs[0], "plan: planned"), "the first engine at work")

        def outside_transactions() -> bool:
            busy = (
                "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = :n "
                "AND state <> 'idle'"
            )
            with store.connect() as connection:
                return connection.execute(text(busy), {"n": name}).scalar_one() == 0

        pause_while_idle(paused, outside_transactions)
        time.sleep(3)
        other = start_engine(store_url, books, sink.port, *LEASE, log=logs[1])
        processes.append(other)
        wait_for(lambda: log_says(logs[1], "took over from engine 1"), "the take-over")

        paused.send_signal(signal.SIGCONT)

        wait_for(lambda: log_says(logs[0], "registered again as engine 3"), "re-registration")
        assert paused.poll() is None  # still running
        live = "SELECT COUNT(*) FROM engine_instances WHERE stopped_at IS NULL"
        assert scalar(store, live) == 2
        shop_orders(store, tmp_path, range(4))  # both engines share the new work
        wait_for(lambda: sink.received >= 4, "four thank-yous")
        wait_for(
            lambda: scalar(store, "SELECT COUNT(*) FROM messages WHERE status = 'sent'") == 4,
            "all recorded sent",
        )
        time.sleep(1)
        assert sink.received == 4  # each once
        assert stop(paused) == 0
        assert stop(other) == 0
