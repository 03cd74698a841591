"""The engine's durable schedule: jobs missed while no engine ran run at the next start and
are rescheduled; a job added by one `register` line runs and records its result; the same
job is run by one engine only, on either backend."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, text

from relmark.config import Settings
from relmark.engine import EngineOptions, Job, JobContext, Runner, every, register
from relmark.engine.jobs import JOBS
from relmark.interaction import Interaction
from relmark.store.models import Order

from ..interact.conftest import SECRET
from .conftest import playbooks, scalar, shop_customers, shop_orders, start_engine


def test_a_rescore_missed_while_down_runs_at_start_then_plans_and_is_rescheduled(
    sqlite_engine: Engine, tmp_path: Path, smtp
) -> None:
    _, port = smtp()
    shop_customers(sqlite_engine, tmp_path, 6)
    shop_orders(sqlite_engine, tmp_path, range(6))
    books = playbooks(tmp_path)
    url = sqlite_engine.url.render_as_string(hide_password=False)
    first = start_engine(url, books, port, "--once")
    assert first.wait(timeout=120) == 0
    assert scalar(sqlite_engine, "SELECT COUNT(*) FROM score_runs") == 0  # not due yet
    with sqlite_engine.begin() as connection:  # as if every engine was down at 02:00
        connection.execute(
            text("UPDATE engine_jobs SET next_run_at = :t WHERE name = 'rescore'"),
            {"t": (datetime.now(UTC) - timedelta(days=2)).replace(tzinfo=None)},
        )

    again = start_engine(url, books, port, "--once", "--score-at", "03:30")
    _, err = again.communicate(timeout=300)
    assert again.returncode == 0, err.decode()

    assert "rescore: scored 6 customers" in err.decode()
    assert scalar(sqlite_engine, "SELECT COUNT(*) FROM score_runs") == 1
    following = scalar(sqlite_engine, "SELECT next_run_at FROM engine_jobs WHERE name = 'rescore'")
    assert " 03:30:00" in str(following)
    assert datetime.fromisoformat(str(following)).replace(tzinfo=UTC) > datetime.now(UTC)
    plan_next = scalar(sqlite_engine, "SELECT next_run_at FROM engine_jobs WHERE name = 'plan'")
    assert datetime.fromisoformat(str(plan_next)).replace(tzinfo=UTC) > datetime.now(UTC)


def test_a_job_registered_in_one_line_runs_on_one_engine_of_two(
    engine: Engine, tmp_path: Path
) -> None:
    calls: list[int] = []

    def count_call(context: JobContext) -> str:
        calls.append(1)
        return f"counted {len(calls)}"

    register(Job("count-calls", every(timedelta(hours=6)), count_call))
    try:
        interaction = Interaction(
            engine, Settings(secret_key=SECRET), playbooks_dir=playbooks(tmp_path)
        )
        runners = [Runner(interaction, EngineOptions(), log=lambda _line: None) for _ in range(2)]
        if engine.dialect.name == "sqlite":
            runners = runners[:1]  # one engine per SQLite store
        for runner in runners:
            runner.start()
        threads = [threading.Thread(target=r.loop, kwargs={"once": True}) for r in runners]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        JOBS.pop("count-calls")
    assert calls == [1]
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT last_result, claimed_by FROM engine_jobs WHERE name = 'count-calls'")
        ).one()
    assert tuple(row) == ("counted 1", None)


def _order(connection, customer: int, number: str) -> int:  # noqa: ANN001
    record = connection.execute(
        text("SELECT id FROM source_records WHERE customer_id = :c"), {"c": customer}
    ).scalar_one()
    return connection.execute(
        insert(Order)
        .values(
            source="default",
            external_id=number,
            customer_id=customer,
            source_record_id=record,
            ordered_at=datetime(2026, 6, 1, 10, 0, tzinfo=UTC),
            currency="EUR",
            amount_minor=420,
            status="completed",
        )
        .returning(Order.id)
    ).scalar_one()


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
@pytest.mark.postgres
def test_an_order_committed_after_a_higher_id_was_planned_is_still_planned(
    engine: Engine, tmp_path: Path
) -> None:
    shop_customers(engine, tmp_path, 2)
    with engine.connect() as connection:
        customers = list(connection.execute(text("SELECT id FROM customers ORDER BY id")).scalars())
    interaction = Interaction(
        engine, Settings(secret_key=SECRET), playbooks_dir=playbooks(tmp_path)
    )
    runner = Runner(
        interaction,
        EngineOptions(as_of=datetime(2026, 6, 1, 12, 0, tzinfo=UTC)),
        log=lambda _line: None,
    )
    runner.start()
    try:
        runner.tick()
        with engine.connect() as slow:  # a long import: takes its id first, commits last
            slow_transaction = slow.begin()
            early = _order(slow, customers[0], "SLOW-1")
            with engine.begin() as quick:
                late = _order(quick, customers[1], "QUICK-1")
            assert early < late
            runner.tick()  # plans the quick order, sees the highest id
            slow_transaction.commit()
        runner.tick()
    finally:
        runner.close()
    occasions = scalar(engine, "SELECT string_agg(occasion, ',' ORDER BY occasion) FROM messages")
    assert occasions == f"order:{early},order:{late}"
