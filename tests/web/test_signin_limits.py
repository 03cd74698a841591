"""Issue 12, defect 6: sign-in cannot be used to exhaust memory, to dodge the limit with a
forged X-Forwarded-For, or to spray one password across many accounts."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError
from fastapi.testclient import TestClient

from relmark import accounts
from relmark.accounts import Role
from relmark.config import Settings
from relmark.interfaces.web.app import create_app

from ..interact.conftest import SECRET, free_port
from .conftest import Web, served

PASSWORD = "the right password"


#: Argon2 at its cheapest, for tests about limits rather than about the hash's cost.
CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "_HASHER", CHEAP)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", CHEAP.hash("no such user"))


class CountingHasher(PasswordHasher):
    """Stands in for a 64 MiB Argon2 check that takes 0.1 s, counting how many run at once."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:  # noqa: A002
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(0.1)  # long enough for the others to pile up, if nothing stops them
            raise VerifyMismatchError
        finally:
            with self.lock:
                self.running -= 1


def test_forty_concurrent_sign_ins_hash_two_at_a_time(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the app on a real port and a hasher that counts (64 MiB per running hash)
    hasher = CountingHasher()
    monkeypatch.setattr(accounts, "_HASHER", hasher)
    with (
        served(create_app(web.shop.engine, web.settings)) as url,
        httpx.Client(base_url=url, timeout=120, limits=httpx.Limits(max_connections=50)) as http,
    ):

        def sign_in(i: int) -> int:
            form = {"email": f"nobody{i}@example.com", "password": f"guess number {i}"}
            return http.post("/login", data=form).status_code

        # when 40 anonymous sign-ins arrive at once
        with ThreadPoolExecutor(40) as pool:
            answers = pool.map(sign_in, range(40))
            deadline = time.monotonic() + 30
            while hasher.running == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            # then other requests are answered meanwhile: waiting sign-ins hold no thread
            time.sleep(0.3)
            asked = time.monotonic()
            other = http.get("/api/v1/segments", headers=web.as_role("viewer"))
            waited = time.monotonic() - asked
            still_hashing = hasher.running
            statuses = list(answers)
    # and every one was checked, at most two at the same moment
    assert statuses == [303] * 40
    assert hasher.most <= 2, hasher.most
    assert other.status_code == 200
    # answered while sign-ins were still queued (a queue of 40 × 0.1 s, two at a time, lasts
    # 2 s at least): no absolute bound on `waited`, which a loaded CI machine stretches
    assert still_hashing > 0, f"answered only when the queue had drained ({waited:.2f} s)"


def fail_five_times(client: TestClient, email: str, forwarded: list[str]) -> None:
    for i, address in enumerate(forwarded):
        form = {"email": email, "password": f"wrong {i}"}
        answer = client.post("/login", data=form, headers={"X-Forwarded-For": address})
        assert answer.status_code == 303


@pytest.mark.usefixtures("cheap_hashing")
def test_forwarded_for_is_believed_only_from_configured_proxies(web: Web) -> None:
    accounts.add_user(web.shop.engine, "mia@example.com", PASSWORD, Role.VIEWER, datetime.now(UTC))
    right = {"email": "mia@example.com", "password": PASSWORD}
    # given relmark behind a proxy at 10.0.0.5, configured as trusted
    settings = Settings(secret_key=SECRET, trusted_proxies="10.0.0.0/8, ::1")
    app = create_app(web.shop.engine, settings)
    with TestClient(app, client=("10.0.0.5", 4000), follow_redirects=False) as proxy:
        # when one client (203.0.113.7, as the proxy says) fails five times
        fail_five_times(proxy, "mia@example.com", ["203.0.113.7, 10.0.0.9"] * 5)
        # then that client is stopped, and another client with the same e-mail is not
        first = proxy.post("/login", data=right, headers={"X-Forwarded-For": "203.0.113.7"})
        assert first.status_code == 429
        other = proxy.post("/login", data=right, headers={"X-Forwarded-For": "198.51.100.2"})
        assert other.status_code == 303
        assert other.headers["location"] == "/"
    # given a client that is not a configured proxy
    with TestClient(app, client=("192.0.2.50", 4000), follow_redirects=False) as direct:
        # when it claims a new address on every try, the claims are ignored
        fail_five_times(direct, "mia@example.com", [f"198.51.100.{i}" for i in range(5)])
        sixth = direct.post("/login", data=right, headers={"X-Forwarded-For": "198.51.100.99"})
        assert sixth.status_code == 429


@pytest.fixture
def relmark_serve(tmp_path: Path) -> Iterator[str]:
    """`relmark serve` as shipped, in its own process, on a fresh store."""
    port = free_port()
    env = {**os.environ, "RELMARK_SECRET_KEY": SECRET}
    env.pop("RELMARK_TRUSTED_PROXIES", None)
    db = f"sqlite:///{tmp_path / 'serve.db'}"
    command = [sys.executable, "-m", "relmark", "serve", "--db", db, "--port", str(port)]
    subprocess.run([*command[:3], "init", "--db", db], env=env, check=True, capture_output=True)
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{url}/login", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow
def test_relmark_serve_ignores_forwarded_for_from_a_loopback_client(relmark_serve: str) -> None:
    # given `relmark serve` with no trusted proxy configured (the default)
    def attempt(address: str) -> httpx.Response:
        form = {"email": "mia@example.com", "password": "wrong"}
        headers = {"X-Forwarded-For": address}
        return httpx.post(f"{relmark_serve}/login", data=form, headers=headers, timeout=30)

    # when a local client fails five times, claiming another address each time
    assert [attempt(f"203.0.113.{i}").status_code for i in range(5)] == [303] * 5
    # then the sixth is stopped: uvicorn no longer believes loopback's X-Forwarded-For
    assert attempt("203.0.113.200").status_code == 429


@pytest.mark.usefixtures("cheap_hashing")
def test_one_password_tried_on_many_accounts_is_stopped(web: Web) -> None:
    # given ten accounts that one password was tried on, each once
    client = web.client
    sprayed = "Summer2026!"
    for i in range(10):
        form: dict[str, Any] = {"email": f"user{i}@example.com", "password": sprayed}
        assert client.post("/login", data=form).headers["location"] == "/login?failed=1"
    # when the same password is tried on an eleventh account
    eleventh = client.post("/login", data={"email": "user10@example.com", "password": sprayed})
    # then it is refused before any check; another password is still checked
    assert eleventh.status_code == 429
    other = client.post("/login", data={"email": "user10@example.com", "password": "different"})
    assert other.status_code == 303


def test_a_nul_in_the_sign_in_form_is_a_failed_sign_in(web: Web) -> None:
    # PostgreSQL refuses NUL in text: the e-mail never reaches the store
    answer = web.client.post("/login", data={"email": "a\x00@example.com", "password": "x"})
    assert answer.headers["location"] == "/login?failed=1"
