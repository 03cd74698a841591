"""`relmark serve --engine`: one process serves the tracking endpoint and plans what it
receives; SIGTERM stops both."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import Engine

from relmark.accounts import Role, create_key

from ..interact.conftest import SECRET, free_port
from .conftest import SRC, log_says, playbooks, scalar, stop, wait_for


def order_batch(order: str, at: datetime) -> dict:
    stamp = at.isoformat().replace("+00:00", "Z")
    return {
        "batch": [
            {
                "type": "identify",
                "userId": "u-1",
                "traits": {"email": "mia@example.si", "firstName": "Mia"},
                "messageId": f"i-{order}",
                "timestamp": stamp,
            },
            {
                "type": "track",
                "userId": "u-1",
                "event": "Order Completed",
                "properties": {"order_id": order, "total": 12.5, "currency": "EUR"},
                "messageId": f"o-{order}",
                "timestamp": stamp,
            },
        ]
    }


def test_serve_with_engine_plans_a_tracked_order_and_stops_on_sigterm(
    sqlite_engine: Engine, tmp_path: Path, processes
) -> None:
    _, key = create_key(sqlite_engine, Role.INGEST, "shop", datetime.now(UTC))
    port = free_port()
    log = tmp_path / "serve.log"
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "RELMARK_SECRET_KEY": SECRET,
        "RELMARK_PLAYBOOKS_DIR": str(playbooks(tmp_path)),
    }
    url = sqlite_engine.url.render_as_string(hide_password=False)
    command = [sys.executable, "-m", "relmark", "serve", "--engine", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--db", url], stdout=subprocess.DEVNULL, stderr=log.open("wb"), env=env
    )
    processes.append(server)
    wait_for(lambda: log_says(log, "plan: planned"), "the engine's first plan")
    wait_for(lambda: _up(port), "the web server")

    body = order_batch("W-1", datetime.now(UTC) - timedelta(minutes=1))
    response = httpx.post(f"http://127.0.0.1:{port}/v1/batch", json=body, auth=(key, ""))
    assert response.status_code == 200, response.text

    decided = "SELECT COUNT(*) FROM messages WHERE playbook = 'thanks'"
    wait_for(lambda: scalar(sqlite_engine, decided) == 1, "the thank-you decision")
    assert stop(server, signal.SIGTERM) == 0
    assert log_says(log, "stopped")
    assert (
        scalar(sqlite_engine, "SELECT COUNT(*) FROM engine_instances WHERE stopped_at IS NULL") == 0
    )


def _up(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code < 500
    except httpx.HTTPError:
        return False
