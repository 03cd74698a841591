"""Authentication for every route: API keys as `Authorization: Bearer KEY`, browser sessions
as an HttpOnly cookie (with a CSRF token for forms), the write key for tracking as HTTP Basic.

Routes declare the least role they need with `Depends(require(Role.X))`; the route
enumeration test proves that no route is reachable without one, except the public ones.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from relmark import accounts
from relmark.accounts import Principal, Role
from relmark.store.audit import Actor

SESSION_COOKIE = "relmark_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def principal_of(request: Request) -> Principal | None:
    """Who is calling, if anyone: a key, else a session cookie. The lookup runs in a worker
    thread: a store busy with an import must not stall the event loop."""
    engine = request.app.state.engine
    key = _bearer(request)
    if key:
        return await run_in_threadpool(accounts.check_key, engine, key)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        return await run_in_threadpool(accounts.session, engine, token, datetime.now(UTC))
    return None


def require(role: Role) -> Callable[..., object]:
    """A dependency: the caller must be authenticated and at least `role`; a browser that
    changes something must also send its session's CSRF token."""

    async def dependency(request: Request) -> Principal:
        who = await principal_of(request)
        if who is None:
            raise HTTPException(
                401,
                "sign in, or send an API key as 'Authorization: Bearer KEY'",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not who.may(role):
            raise HTTPException(403, f"this needs the {role} role; you have {who.role}")
        if who.kind == "user" and request.method not in SAFE_METHODS:
            await _check_csrf(request, who)
        request.state.principal = who
        return who

    dependency.__name__ = f"require_{role}"
    return dependency


async def _check_csrf(request: Request, who: Principal) -> None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not sent or not who.csrf_token or not hmac.compare_digest(sent, who.csrf_token):
        raise HTTPException(403, "missing or wrong CSRF token")


def write_key(request: Request) -> Principal:
    """The tracking endpoint: HTTP Basic with an ingest key as the user name (Segment's
    convention), or a Bearer ingest key."""
    engine = request.app.state.engine
    key = _bearer(request)
    header = request.headers.get("authorization", "")
    if key is None and header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip()).decode()
        except ValueError:
            decoded = ""
        key = decoded.partition(":")[0] or None
    who = accounts.check_key(engine, key) if key else None
    if who is None:
        raise HTTPException(
            401,
            "send the write key as the HTTP Basic user name",
            headers={"WWW-Authenticate": 'Basic realm="relmark tracking"'},
        )
    if who.role is not Role.INGEST:
        raise HTTPException(403, "the tracking endpoint takes ingest keys only")
    return who


def actor_of(request: Request, who: Principal) -> Actor:
    """The audit trail's actor: the signed-in user or the key, from the client's address."""
    origin = request.client.host if request.client else None
    if who.kind == "user":
        return Actor("user", who.name, origin)
    return Actor("key", f"{who.name} (key {who.id})", origin)
