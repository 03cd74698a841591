"""Sign-in and sign-out: the login form, its limits and the session cookie.

Three limits stand between a guesser and a password: at most LOGIN_ATTEMPTS failures per
address and e-mail, at most PASSWORD_ATTEMPTS failures of one password across every e-mail
(password spraying; the password is kept only as a keyed hash, in memory), and at most
MAX_CONCURRENT_HASHES Argon2 checks at once, run in worker threads so that the event loop
and the other requests' threads stay free while sign-ins wait their turn.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Hashable, Sequence
from datetime import UTC, datetime
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from relmark import accounts
from relmark.accounts import Principal, Role
from relmark.interfaces.web.auth import SESSION_COOKIE, require
from relmark.interfaces.web.i18n import gettext_for
from relmark.interfaces.web.pages import page_language

LOGIN_ATTEMPTS = 5
PASSWORD_ATTEMPTS = 10
LOGIN_WINDOW_SECONDS = 15 * 60
#: Keys are chosen by whoever calls: past this many, the oldest are forgotten.
MAX_TRACKED = 100_000
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

router = APIRouter(include_in_schema=False)


class LoginThrottle:
    """Failed sign-ins in the last window, per (address, e-mail) and per password."""

    def __init__(self) -> None:
        self.failures: OrderedDict[Hashable, deque[float]] = OrderedDict()
        self._salt = secrets.token_bytes(32)  # per process: the hashes mean nothing elsewhere

    def _keys(self, address: str, email: str, password: str) -> list[tuple[Hashable, int]]:
        sprayed = hmac.new(self._salt, password.encode("utf-8", "replace"), hashlib.sha256)
        return [
            (("account", address, email.strip().lower()), LOGIN_ATTEMPTS),
            (("password", sprayed.hexdigest()), PASSWORD_ATTEMPTS),
        ]

    def _recent(self, key: Hashable) -> int:
        recent = self.failures.get(key)
        if recent is None:
            return 0
        while recent and recent[0] < time.monotonic() - LOGIN_WINDOW_SECONDS:
            recent.popleft()
        if not recent:
            del self.failures[key]
        return len(recent)

    def blocked(self, address: str, email: str, password: str) -> bool:
        return any(self._recent(k) >= limit for k, limit in self._keys(address, email, password))

    def failed(self, address: str, email: str, password: str) -> None:
        for key, _limit in self._keys(address, email, password):
            self.failures.setdefault(key, deque()).append(time.monotonic())
            self.failures.move_to_end(key)
        while len(self.failures) > MAX_TRACKED:
            self.failures.popitem(last=False)

    def succeeded(self, address: str, email: str) -> None:
        """The account's count restarts; a sprayed password's does not."""
        self.failures.pop(("account", address, email.strip().lower()), None)


def client_address(request: Request, trusted: Sequence[Network]) -> str:
    """The caller's address: the connecting peer, unless it is a trusted proxy; then the
    right-most X-Forwarded-For hop that is not itself a trusted proxy."""
    peer = request.client.host if request.client else "?"
    if not _within(peer, trusted):
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",")]
    for hop in reversed([h for h in hops if h]):
        if not _within(hop, trusted):
            return hop if _is_address(hop) else peer
    return peer


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _within(address: str, networks: Sequence[Network]) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in networks)


def _hashing_slots(request: Request) -> anyio.CapacityLimiter:
    """Worker threads for Argon2, for the app's running event loop (a test may run several
    loops in turn): sign-ins waiting for a slot hold no thread."""
    loop = asyncio.get_running_loop()
    owner, slots = getattr(request.app.state, "hashing", (None, None))
    if owner is not loop or slots is None:
        slots = anyio.CapacityLimiter(accounts.MAX_CONCURRENT_HASHES)
        request.app.state.hashing = (loop, slots)
    return slots


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, failed: int = 0) -> HTMLResponse:
    language = page_language(request)
    html = request.app.state.pages.get_template("login.html").render(
        lang=language,
        _=gettext_for(language),
        failed=bool(failed),
        shop=request.app.state.settings.shop_name,
    )
    return HTMLResponse(html)


@router.post("/login")
async def login(
    request: Request,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1000)],
) -> Response:
    throttle: LoginThrottle = request.app.state.throttle
    address = client_address(request, request.app.state.settings.trusted_proxy_networks())
    if throttle.blocked(address, email, password):
        raise HTTPException(429, "too many failed sign-ins; wait a quarter of an hour")
    engine = request.app.state.engine
    user = await anyio.to_thread.run_sync(
        accounts.authenticate, engine, email, password, limiter=_hashing_slots(request)
    )
    if user is None:
        throttle.failed(address, email, password)
        return RedirectResponse("/login?failed=1", status_code=303)
    throttle.succeeded(address, email)
    token, _csrf = await anyio.to_thread.run_sync(
        accounts.start_session, engine, user, datetime.now(UTC)
    )
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=accounts.SESSION_DAYS * 86400,
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="lax",
    )
    return response


@router.post("/logout")
def logout(request: Request, who: Annotated[Principal, Depends(require(Role.VIEWER))]) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        accounts.end_session(request.app.state.engine, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
