"""Concurrent redemptions never take a balance below zero: the debit is one conditional
UPDATE on the account row (plus a CHECK), tested with real concurrent connections."""

from __future__ import annotations

import contextlib
import threading
from datetime import timedelta

from sqlalchemy import Engine

from relmark.interact.loyalty import grant, redeem, run_posting
from relmark.store.audit import Actor
from relmark.store.db import make_engine
from relmark.store.loyalty_ledger import NotEnoughPoints, accounts_out_of_step

from ..conftest import NOW
from ..helpers import rows
from .seed import add_customer, add_order, balance, enable, programme

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


def test_redeemers_grants_and_the_posting_job_at_once_keep_the_ledger_whole(
    engine: Engine,
) -> None:
    # given members with points, some of them expiring now, and new orders to post
    enable(engine)
    staff = Actor("cli", "tester")
    people = [add_customer(engine) for _ in range(4)]
    for who in people:
        add_order(engine, who, 9000, NOW - timedelta(days=400))  # expires as the job runs
        add_order(engine, who, 6000, NOW - timedelta(days=30))
    run_posting(engine, programme(), NOW - timedelta(days=60))
    for who in people:
        add_order(engine, who, 4000, NOW - timedelta(days=1))

    # when redeemers, a granter and the posting job run at the same time
    start = threading.Barrier(len(people) * 2 + 2)
    failed: list[BaseException] = []
    url = engine.url.render_as_string(hide_password=False)

    def redeemer(who: int) -> None:
        own = make_engine(url)
        try:
            start.wait()
            for _ in range(6):
                with contextlib.suppress(NotEnoughPoints):
                    redeem(own, programme(), who, "mug", NOW, staff)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failed.append(exc)
        finally:
            own.dispose()

    def granter() -> None:
        own = make_engine(url)
        try:
            start.wait()
            for who in people:
                grant(own, programme(), who, 5, "goodwill", NOW, staff)
        except BaseException as exc:  # noqa: BLE001
            failed.append(exc)
        finally:
            own.dispose()

    def job() -> None:
        own = make_engine(url)
        try:
            start.wait()
            run_posting(own, programme(), NOW)
        except BaseException as exc:  # noqa: BLE001
            failed.append(exc)
        finally:
            own.dispose()

    workers = [threading.Thread(target=redeemer, args=(w,)) for w in people * 2]
    workers += [threading.Thread(target=granter), threading.Thread(target=job)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    # then nothing failed, no balance is negative or out of step, no earn entry overspent
    assert failed == []
    with engine.connect() as connection:
        assert accounts_out_of_step(connection) == 0
    assert rows(engine, "SELECT COUNT(*) FROM loyalty_accounts WHERE balance < 0") == [(0,)]
    assert rows(
        engine,
        "SELECT COUNT(*) FROM loyalty_entries e WHERE e.points > 0 AND e.points < "
        "(SELECT COALESCE(SUM(a.points), 0) FROM loyalty_allocations a WHERE a.earn_id = e.id)",
    ) == [(0,)]
    # every debit is fully allocated
    assert rows(
        engine,
        "SELECT COUNT(*) FROM loyalty_entries d WHERE d.points < 0 AND -d.points <> "
        "(SELECT COALESCE(SUM(a.points), 0) FROM loyalty_allocations a WHERE a.debit_id = d.id)",
    ) == [(0,)]
