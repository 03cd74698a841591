"""The engine runs the upkeep jobs itself: identity for records that arrived unmatched, the
unsubscribe mailbox (a plain note when none is configured), pruning on a daily schedule."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, text

from .conftest import playbooks, scalar, shop_customers, start_engine


def test_one_tick_runs_identity_and_the_mailbox_and_schedules_pruning(
    sqlite_engine: Engine, tmp_path: Path, smtp
) -> None:
    _, port = smtp()
    shop_customers(sqlite_engine, tmp_path, 3)
    with sqlite_engine.begin() as connection:  # as if a record arrived without its keys
        connection.execute(text("UPDATE source_records SET email_key = NULL, phone_key = NULL"))
    url = sqlite_engine.url.render_as_string(hide_password=False)

    engine = start_engine(url, playbooks(tmp_path), port, "--once")
    _, err = engine.communicate(timeout=300)
    assert engine.returncode == 0, err.decode()

    log = err.decode()
    assert "identity: 3 record(s) keyed" in log
    assert "no unsubscribe mailbox configured" in log
    assert scalar(sqlite_engine, "SELECT COUNT(email_key) FROM source_records") == 3
    pruning = scalar(
        sqlite_engine, "SELECT last_run_at IS NULL FROM engine_jobs WHERE name = 'prune-outbox'"
    )
    assert pruning == 1  # not at first start: a new store has nothing old to prune
