"""The engine rewards referrals by itself: the upkeep job `referral-rewards` issues the
referrer's offer once the friend's order is past its return window, and only once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, update

from relmark.store.models import EngineJob
from relmark.store.referrals import code_for

from ..helpers import run_import, write_csv
from .conftest import playbooks, scalar, shop_customers, start_engine


def test_the_engine_rewards_a_referral_past_its_window_once(
    sqlite_engine: Engine, tmp_path: Path, smtp
) -> None:
    # given C1's first order, long past the 30-day window, carrying C0's code
    _, port = smtp()
    shop_customers(sqlite_engine, tmp_path, 2)
    with sqlite_engine.begin() as connection:
        code = code_for(connection, 1, datetime.now(UTC))
    header = ["order_id", "customer_id", "ordered_at", "total", "currency", "referral_code"]
    path = write_csv(tmp_path, "r.csv", header, [["R1", "C1", "2026-01-05", "30", "EUR", code]])
    run_import(sqlite_engine, "orders", path)
    url = sqlite_engine.url.render_as_string(hide_password=False)

    # when the engine ticks once, twice
    first = start_engine(url, playbooks(tmp_path), port, "--once")
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err.decode()
    with sqlite_engine.begin() as connection:  # make the job due again at once
        connection.execute(
            update(EngineJob)
            .where(EngineJob.name == "referral-rewards")
            .values(next_run_at=datetime(2026, 1, 1, tzinfo=UTC))
        )
    second = start_engine(url, playbooks(tmp_path), port, "--once")
    _, again = second.communicate(timeout=300)
    assert second.returncode == 0, again.decode()

    # then one reward offer for C0, and the log says so
    assert "referrals: 1 rewarded, 0 rejected" in err.decode()
    assert "referrals: 0 rewarded, 0 rejected" in again.decode()
    assert scalar(sqlite_engine, "SELECT COUNT(*) FROM offers WHERE kind = 'referral_reward'") == 1
    assert scalar(sqlite_engine, "SELECT status FROM referrals") == "rewarded"
