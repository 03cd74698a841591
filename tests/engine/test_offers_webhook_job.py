"""The engine delivers offer events itself (upkeep job `offers-webhook`) once the shop sets
its offers webhook in the store; a real engine process and a real HTTP server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from relmark import shop_settings

from .. import offer_factory as make
from ..interact.shop_hook import SECRET, shop_hook
from .conftest import playbooks, scalar, start_engine


def test_the_engine_sends_offer_events_to_the_webhook_set_in_the_store(
    sqlite_engine: Engine, tmp_path: Path, smtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, port = smtp()
    ana = make.customer(sqlite_engine, "A1")
    # valid for a month from today: the engine's expiry job runs on the real clock
    make.offer(sqlite_engine, ana, "BACK-AAAA2222", expires_at=datetime.now(UTC) + timedelta(30))
    monkeypatch.setenv("RELMARK_WEBHOOK_SECRET", SECRET)
    url = sqlite_engine.url.render_as_string(hide_password=False)
    with shop_hook() as hook:
        shop_settings.change(sqlite_engine, {"offers_webhook_url": hook.url}, datetime.now(UTC))
        engine = start_engine(url, playbooks(tmp_path), port, "--once")
        _, err = engine.communicate(timeout=300)
    assert engine.returncode == 0, err.decode()
    assert "offer events: 1 queued, 1 delivered" in err.decode()
    assert hook.keys() == ["BACK-AAAA2222:offer.issued"]
    assert hook.bad_signatures == 0
    assert scalar(sqlite_engine, "SELECT status FROM offer_webhooks") == "delivered"
