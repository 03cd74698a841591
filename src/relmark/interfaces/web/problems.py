"""Errors as RFC 9457 problem details (`application/problem+json`), one shape everywhere."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from relmark.errors import InvalidInput, RelmarkError

PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


async def on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    response = problem(exc.status_code, _title(exc.status_code), str(exc.detail))
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        {"where": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
    ]
    return problem(422, "Invalid request", "the request does not match the API", errors=errors)


async def on_invalid_input(request: Request, exc: InvalidInput) -> JSONResponse:
    errors = [
        {"where": p.where, "line": p.line, "column": p.column, "message": p.message}
        for p in exc.problems
    ]
    status = 400 if request.url.path.startswith("/v1/") else 422  # Segment clients expect 400
    return problem(status, "Invalid input", "nothing was changed", errors=errors, count=exc.count)


async def on_relmark_error(request: Request, exc: RelmarkError) -> JSONResponse:
    return problem(400, "Cannot do that", str(exc))


def _title(status: int) -> str:
    return {
        400: "Bad request",
        401: "Authentication required",
        403: "Not allowed for this role",
        404: "Not found",
        405: "Method not allowed",
        413: "Too large",
        429: "Too many requests",
    }.get(status, "Error")
