"""The engine's arrival look: index probes instead of counting every row, and on PostgreSQL
an order committed out of id order (a long transaction with a lower id committing after a
higher id was seen) is still planned when it commits; a rolled-back id is let go."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, text

from relmark.engine import EngineOptions, Runner
from relmark.store import arrivals, engine_state

from ..interact.conftest import Shop
from .conftest import AS_OF, ORDERED_AT, shop_customers, shop_orders, wait_for
from .test_tick_resilience import interaction


def runner_on(engine: Engine, tmp_path: Path, logs: list[str]) -> Runner:
    relmark = interaction(Shop(engine, tmp_path), tmp_path)
    runner = Runner(relmark, EngineOptions(as_of=datetime.fromisoformat(AS_OF)), log=logs.append)
    runner.transports = {}  # planning only
    runner.start()
    return runner


def raw_order(connection: Connection, external_id: str, customer: int) -> int:
    """An order inserted in the caller's transaction (committed when the caller commits)."""
    record = connection.execute(text("SELECT MIN(id) FROM source_records")).scalar_one()
    return int(
        connection.execute(
            text(
                "INSERT INTO orders (source, external_id, customer_id, source_record_id, "
                "ordered_at, currency, amount_minor, discount_minor, status) VALUES "
                "('raw', :e, :c, :r, :at, 'EUR', 420, 0, 'completed') RETURNING id"
            ),
            {"e": external_id, "c": customer, "r": record, "at": ORDERED_AT},
        ).scalar_one()
    )


def planned_for(engine: Engine) -> set[int]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT customer_id FROM messages")).scalars()
        return {int(c) for c in rows}


def customer_ids(engine: Engine) -> list[int]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id FROM customers ORDER BY id")).scalars()
        return [int(c) for c in rows]


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
@pytest.mark.postgres
def test_an_order_committed_after_a_higher_id_was_seen_is_planned_when_it_commits(
    engine: Engine, tmp_path: Path
) -> None:
    shop_customers(engine, tmp_path, 3)
    logs: list[str] = []
    runner = runner_on(engine, tmp_path, logs)
    try:
        runner.run_due_jobs()  # the first full plan: nothing ordered yet
        first, second, third = customer_ids(engine)
        slow = engine.connect()
        slow_tx = slow.begin()
        low = raw_order(slow, "slow", first)  # takes its id now, commits later
        with engine.begin() as quick:
            high = raw_order(quick, "quick", second)
        assert low < high

        runner.plan_arrivals()
        assert planned_for(engine) == {second}
        with engine.connect() as connection:
            state = engine_state.job_state(connection, "arrivals")
        assert state["order_id"] == high
        assert [lo for lo, hi, _ in state["holes"]["orders"]] == [low]

        slow_tx.commit()
        slow.close()
        with engine.connect() as connection:
            assert arrivals.pending(connection, state)
        runner.plan_arrivals()

        assert planned_for(engine) == {first, second}
        assert any("1 new order(s)" in line for line in logs)
        # a rolled-back insert leaves a hole only until its transaction has ended
        with engine.connect() as doomed, doomed.begin() as tx:
            raw_order(doomed, "doomed", third)
            tx.rollback()
        with engine.begin() as quick:
            raw_order(quick, "after", third)

        def holes_let_go() -> bool:
            # Transactions anywhere on the server hold the horizon back: look as ticks do.
            runner.plan_arrivals()
            with engine.connect() as connection:
                state = engine_state.job_state(connection, "arrivals")
                return state["holes"] == {"orders": [], "customers": []}

        wait_for(holes_let_go, "the rolled-back id let go")
        assert planned_for(engine) == {first, second, third}
    finally:
        runner.close()


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
@pytest.mark.postgres
def test_too_many_holes_collapse_into_one_whole_store_look(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(arrivals, "MAX_HOLES", 2)
    shop_customers(engine, tmp_path, 6)
    ids = customer_ids(engine)
    with engine.connect() as connection:
        seen = arrivals.read(connection, {}, 1000).state
    slow = engine.connect()
    slow_tx = slow.begin()
    for n in range(3):  # three scattered ids still uncommitted, three committed between
        raw_order(slow, f"slow{n}", ids[n])
        with engine.begin() as quick:
            raw_order(quick, f"quick{n}", ids[3 + n])
    with engine.connect() as connection:
        found = arrivals.read(connection, seen, 1000)
    assert found.customers == ids[3:]
    assert found.state["holes"] == {}
    assert found.state["whole_after"] > 0
    with engine.connect() as connection:
        still = arrivals.read(connection, found.state, 1000)
    assert still.customers == []
    assert still.state["whole_after"] == found.state["whole_after"]

    slow_tx.commit()
    slow.close()

    def looks_again() -> bool:  # once transactions anywhere on the server have moved on
        with engine.connect() as connection:
            return arrivals.pending(connection, still.state)

    wait_for(looks_again, "the whole-store look")
    with engine.connect() as connection:
        last = arrivals.read(connection, still.state, 1000)
    assert last.customers is None  # the whole store, once: the scattered orders included
    assert "whole_after" not in last.state


def test_the_look_at_each_tick_counts_nothing(engine: Engine, tmp_path: Path) -> None:
    shop_customers(engine, tmp_path, 2)
    shop_orders(engine, tmp_path, range(2))
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:  # noqa: ANN401
        statements.append(statement.lower())

    with engine.connect() as connection:
        state = arrivals.read(connection, {}, 1000).state
        event.listen(engine, "before_cursor_execute", seen)
        try:
            idle = arrivals.pending(connection, state)
        finally:
            event.remove(engine, "before_cursor_execute", seen)

    assert not idle
    assert statements
    assert not any("count(" in s for s in statements)
    assert all("max(" in s for s in statements)


def test_sqlite_needs_no_holes(sqlite_engine: Engine, tmp_path: Path) -> None:
    shop_customers(sqlite_engine, tmp_path, 3)
    with sqlite_engine.connect() as connection:
        before = arrivals.read(connection, {}, 1000)
    shop_customers(sqlite_engine, tmp_path, 1, start=10)
    with sqlite_engine.connect() as connection:
        after = arrivals.read(connection, before.state, 1000)
        assert after.customers == [4]
        assert not arrivals.pending(connection, after.state)
    assert after.state["holes"] == {}
