"""One failing step never stops the engine's other work: a failing arrival plan does not stop
sending, and a claim the engine failed to release does not keep a job from it for good."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, text

from relmark.config import Settings
from relmark.engine import EngineOptions, Job, Runner, every
from relmark.interact.delivery import SmtpTransport
from relmark.interact.sink import MailSink
from relmark.interaction import Interaction
from relmark.store import engine_state

from ..interact.conftest import SECRET, Shop
from ..interact.test_shop_sender import AS_OF, THANKS, customer_with_order


def interaction(shop: Shop, tmp_path: Path) -> Interaction:
    books = tmp_path / "books"
    books.mkdir()
    (books / "thanks.toml").write_text(THANKS, encoding="utf-8")
    return Interaction(shop.engine, Settings(secret_key=SECRET), playbooks_dir=books)


def test_a_failing_arrival_plan_does_not_stop_sending(engine: Engine, tmp_path: Path) -> None:
    shop = Shop(engine, tmp_path)
    relmark = interaction(shop, tmp_path)
    customer_with_order(shop, 1)
    relmark.plan(AS_OF, AS_OF)  # one message planned and due
    logs: list[str] = []
    with MailSink(tmp_path / "mail") as sink:
        runner = Runner(relmark, EngineOptions(as_of=AS_OF), log=logs.append)
        runner.transports = {"email": SmtpTransport(host="127.0.0.1", port=sink.port)}
        runner.start()
        customer_with_order(shop, 2)  # an arrival whose plan fails
        real = relmark.plan

        def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            if kwargs.get("only_customers") is not None:
                raise RuntimeError("a plan bug for one customer")
            return real(*args, **kwargs)

        relmark.plan = broken  # type: ignore[method-assign]
        failure = runner.tick()
        runner.close()

    assert isinstance(failure, RuntimeError)
    assert any("error in plan_arrivals" in line for line in logs)
    with shop.engine.connect() as connection:
        statuses = connection.execute(text("SELECT status FROM messages")).scalars().all()
    assert statuses  # the due message (and the hourly plan's, which ran too) went out
    assert set(statuses) == {"sent"}


def test_a_claim_left_by_a_failed_finish_is_taken_again_by_its_engine(
    sqlite_engine: Engine, tmp_path: Path, monkeypatch
) -> None:
    shop = Shop(sqlite_engine, tmp_path)
    calls: list[int] = []
    job = Job("count", every(timedelta(seconds=0)), lambda context: calls.append(1) or "ok")
    options = EngineOptions(extra_jobs=[job], stale_after=timedelta(minutes=5))
    runner = Runner(interaction(shop, tmp_path), options, log=lambda line: None)
    runner.start()
    real_finish = engine_state.finish
    failed: list[int] = []

    def flaky_finish(connection, name, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if name == "count" and not failed:
            failed.append(1)
            raise RuntimeError("database is locked")
        return real_finish(connection, name, *args, **kwargs)

    monkeypatch.setattr(engine_state, "finish", flaky_finish)
    assert isinstance(runner.tick(), RuntimeError)  # finishing failed: the claim stays
    with sqlite_engine.connect() as connection:
        held = connection.execute(
            text("SELECT claimed_by FROM engine_jobs WHERE name = 'count'")
        ).scalar_one()
    assert held == runner.instance_id
    runner.tick()  # the lease (5 min) is far from over, yet the engine runs its job again
    runner.close()
    assert len(calls) == 2


def test_a_job_whose_claim_was_taken_over_while_running_says_so_and_records_nothing(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    shop = Shop(sqlite_engine, tmp_path)
    logs: list[str] = []

    def taken_over_meanwhile(context) -> str:  # noqa: ANN001
        # another engine declares this one dead and takes the job while it runs
        with sqlite_engine.begin() as connection:
            connection.execute(text("UPDATE engine_jobs SET claimed_by = -1 WHERE name = 'slow'"))
        runner.instance_id = -2  # and this one registers again under a new id
        return "done"

    job = Job("slow", every(timedelta(seconds=0)), taken_over_meanwhile)
    options = EngineOptions(extra_jobs=[job], stale_after=timedelta(minutes=5))
    runner = Runner(interaction(shop, tmp_path), options, log=logs.append)
    runner.start()
    first = runner.instance_id
    runner.tick()
    runner.instance_id = first
    runner.close()

    with sqlite_engine.connect() as connection:
        held, result = connection.execute(
            text("SELECT claimed_by, last_result FROM engine_jobs WHERE name = 'slow'")
        ).one()
    assert (held, result) == (-1, None)  # the new holder's claim stands, no stray record
    assert any("slow: this engine's claim was taken over" in line for line in logs)
