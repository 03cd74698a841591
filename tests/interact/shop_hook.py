"""A real local HTTP server standing in for the shop's checkout: it checks every offer
event's signature, answers as told (500s first, a hang), and keeps what it received."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SECRET = "shop-hook-secret-0123456789"


@dataclass
class ShopHook:
    fail_first: int = 0
    """Answer 500 to the first this many requests of each idempotency key."""
    status: int = 200
    hang_on: int | None = None
    """Read the request with this number (1-based) and never answer it."""
    received: list[dict[str, Any]] = field(default_factory=list)
    bad_signatures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def keys(self) -> list[str]:
        return [r["key"] for r in self.received]

    def answered(self) -> list[dict[str, Any]]:
        return [r for r in self.received if r["answer"] == 200]

    def wait_for(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"only {len(self.received)} of {count} requests arrived")
            time.sleep(0.02)


def _handler(hook: ShopHook) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            key = self.headers["Idempotency-Key"]
            with hook.lock:
                if not hmac.compare_digest(expected, self.headers["X-Relmark-Signature"] or ""):
                    hook.bad_signatures += 1
                seen = sum(1 for r in hook.received if r["key"] == key)
                number = len(hook.received) + 1
                answer = 500 if seen < hook.fail_first else hook.status
                if hook.hang_on == number:
                    answer = 0
                hook.received.append({"key": key, "body": json.loads(body), "answer": answer})
            if answer == 0:
                time.sleep(3600)  # the sender is killed while waiting
                return
            self.send_response(answer)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def shop_hook(**behaviour: Any) -> Iterator[ShopHook]:
    hook = ShopHook(**behaviour)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hook))
    server.daemon_threads = True
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/relmark/offers"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
