"""The engine's durable schedule: jobs missed while no engine ran run at the next start and
are rescheduled; a job added by one `register` line runs and records its result; the same
job is run by one engine only, on either backend."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, text

from relmark.config import Settings
from relmark.engine import EngineOptions, Job, JobContext, Runner, every, register
from relmark.engine.jobs import JOBS
from relmark.interaction import Interaction

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
