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


TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Not allowed for this role",
    404: "Not found",
    405: "Method not allowed",
    413: "Too large",
    422: "Invalid request",
    429: "Too many requests",
}
#: When each status is answered, for the OpenAPI document.
WHEN = {
    400: "The request cannot be done as sent (e.g. a NUL character in the URL, a file "
    "without a usable name, or an import the store refuses).",
    401: "No valid API key or session: send `Authorization: Bearer KEY`.",
    403: "The key or user lacks the role this needs (or a browser sent no CSRF token).",
    404: "Nothing with that id or name.",
    409: "The customer was merged into another profile: use the surviving id.",
    413: "The body is larger than accepted.",
    422: "A parameter or the body does not match the API (`errors` says where).",
    429: "Too many failed attempts; wait and retry.",
}
#: The body of every error: RFC 9457 problem details, with relmark's own fields.
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
        "count": {"type": "integer"},
    },
}


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route or router: these statuses, as problem+json."""
    return {
        status: {
            "description": WHEN[status],
            "content": {PROBLEM: {"schema": PROBLEM_SCHEMA}},
        }
        for status in statuses
    }


def _title(status: int) -> str:
    return TITLES.get(status, "Error")
