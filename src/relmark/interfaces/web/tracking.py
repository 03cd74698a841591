"""Segment-compatible tracking endpoint: /v1/batch and /v1/{identify,track,page,screen,group,
alias}. A 2xx reply means every message of the request is committed; an error, none.

Only reading the body happens on the event loop; parsing and storing run in the thread pool,
so a slow body or a locked database delays that request alone, never the server."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine

from relmark.accounts import Principal
from relmark.errors import InvalidInput
from relmark.ingest.tracking import MAX_BATCH_BYTES, TYPES, TooLarge, parse, read_body
from relmark.ingest.tracking_effects import store
from relmark.interfaces.web.auth import write_key
from relmark.store.db import bulk_transaction
from relmark.store.identity_new import lock_identity

router = APIRouter(prefix="/v1", tags=["tracking"])
Writer = Annotated[Principal, Depends(write_key)]


async def _receive(request: Request, path_type: str | None) -> dict[str, Any]:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BATCH_BYTES:
        raise HTTPException(400, f"request larger than {MAX_BATCH_BYTES // 1024} KB")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BATCH_BYTES:
            raise HTTPException(400, f"request larger than {MAX_BATCH_BYTES // 1024} KB")
    return await run_in_threadpool(
        _process,
        request.app.state.engine,
        bytes(body),
        request.headers.get("content-encoding"),
        path_type,
        request.app.state.settings.currency,
    )


def _process(
    engine: Engine, body: bytes, encoding: str | None, path_type: str | None, currency: str
) -> dict[str, Any]:
    """Parse and store one request (in a worker thread: CPU and database work)."""
    now = datetime.now(UTC)
    try:
        payload = read_body(body, encoding)
        messages = parse(payload, path_type, currency=currency, now=now)
    except TooLarge as exc:
        raise HTTPException(400, str(exc)) from None
    except InvalidInput:
        raise
    identifies = any(m.type == "identify" and m.traits for m in messages)
    with bulk_transaction(engine) as connection:
        if identifies:
            # before any row is written: two requests for one person wait here, rather
            # than each holding rows the other's merge needs (a deadlock on PostgreSQL)
            lock_identity(connection)
        counts = store(connection, messages, now)
        if identifies:
            # an address or phone just arrived: the visitor may be a customer we know, and
            # their order must plan for that customer (keys of this request's records only)
            from relmark.pipeline import identify_new_in

            identify_new_in(connection, now, now=now)
    return {"success": True, **counts}


@router.post("/batch")
async def batch(request: Request, who: Writer) -> dict[str, Any]:
    return await _receive(request, None)


def _single(kind: str):  # noqa: ANN202 - a route factory
    async def endpoint(request: Request, who: Writer) -> dict[str, Any]:
        return await _receive(request, kind)

    endpoint.__name__ = kind
    return endpoint


for _kind in TYPES:
    router.add_api_route(f"/{_kind}", _single(_kind), methods=["POST"], name=f"track_{_kind}")
