"""A running relmark web app on a fresh store, with keys for every role."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from relmark import accounts
from relmark.accounts import Role
from relmark.config import Settings
from relmark.interfaces.web.app import create_app

from ..interact.conftest import SECRET, Shop, free_port

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@dataclass
class Web:
    client: TestClient
    shop: Shop
    keys: dict[str, str]
    settings: Settings

    def as_role(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


def settings_for(tmp_path: Path) -> Settings:
    return Settings(secret_key=SECRET, shop_name="Brew & Co", playbooks_dir=None)


@pytest.fixture
def web(engine: Engine, tmp_path: Path) -> Iterator[Web]:
    keys = {role.value: accounts.create_key(engine, role, role.value, NOW)[1] for role in Role}
    settings = settings_for(tmp_path)
    with TestClient(create_app(engine, settings), follow_redirects=False) as client:
        yield Web(client, Shop(engine, tmp_path), keys, settings)


@contextmanager
def served(app: Any) -> Iterator[str]:
    """`app` served by uvicorn on a free local port in a thread; yields its base URL."""
    port = free_port()
    running = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        running.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def server(web: Web) -> Iterator[str]:
    """The same app served by uvicorn on a real port, for real HTTP clients (SDKs)."""
    with served(create_app(web.shop.engine, web.settings)) as url:
        yield url
