"""Concurrent redemptions never take a balance below zero: the debit is one conditional
UPDATE on the account row (plus a CHECK), tested with real concurrent connections."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import Engine

from relmark.interact.loyalty import grant, redeem
from relmark.store.audit import Actor
from relmark.store.db import make_engine
from relmark.store.loyalty_ledger import NotEnoughPoints

from ..conftest import NOW
from ..helpers import rows
from .seed import add_customer, balance, enable, programme

THREADS = 12
TRIES = 3


def test_concurrent_redeemers_spend_exactly_the_balance(engine: Engine) -> None:
    # given 100 points, from two grants, and a reward of 10 points
    enable(engine)
    anna = add_customer(engine)
    staff = Actor("cli", "tester")
    grant(engine, programme(), anna, 60, "welcome", NOW - timedelta(days=2), staff)
    grant(engine, programme(), anna, 40, "apology", NOW - timedelta(days=1), staff)

    # when 12 threads, each with its own connection pool, try to buy it 3 times at once
    start = threading.Barrier(THREADS)
    won: list[str] = []
    refused: list[int] = []
    failed: list[BaseException] = []

    def redeemer() -> None:
        own = make_engine(engine.url.render_as_string(hide_password=False))
        try:
            start.wait()
            for _ in range(TRIES):
                try:
                    won.append(redeem(own, programme(), anna, "mug", NOW, staff)["code"])
                except NotEnoughPoints:
                    refused.append(1)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failed.append(exc)
        finally:
            own.dispose()

    workers = [threading.Thread(target=redeemer) for _ in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    # then exactly ten won, the rest were refused, and nothing went below zero
    assert failed == []
    assert (len(won), len(refused)) == (10, THREADS * TRIES - 10)
    assert len(set(won)) == 10
    assert balance(engine, anna) == (0, 0)
    assert rows(engine, "SELECT COUNT(*) FROM offers") == [(10,)]
    # and every earn entry was consumed exactly, none beyond its points
    assert rows(
        engine,
        "SELECT e.points, SUM(a.points) FROM loyalty_entries e JOIN loyalty_allocations a "
        "ON a.earn_id = e.id GROUP BY e.id, e.points ORDER BY e.id",
    ) == [(60, 60), (40, 40)]
