"""The ASGI application: routers, error shape, security headers, sign-in.

`create_app(engine, settings)` builds it; `relmark serve` runs it under uvicorn.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from relmark.accounts import Principal, Role
from relmark.config import Settings
from relmark.errors import InvalidInput, RelmarkError
from relmark.interaction import Interaction
from relmark.interfaces.web import (
    access_api,
    api,
    gift_pages,
    gifts_api,
    import_pages,
    links,
    loyalty_api,
    loyalty_pages,
    messages_api,
    offers_api,
    outbox_pages,
    pages,
    privacy_api,
    problems,
    referral_pages,
    referrals_api,
    restrict_api,
    settings_pages,
    signin,
    tracking,
    uploads,
)
from relmark.interfaces.web.auth import require
from relmark.interfaces.web.cache import FigureCache
from relmark.shop_settings import LiveSettings

STATIC = Path(__file__).with_name("static")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
}


async def _to_login(request: Request, exc: Exception) -> Response:
    return RedirectResponse("/login", status_code=303)


def _refuse_early(request: Request) -> Response | None:
    """Refuse before routing what no route could accept: a body declared larger than the
    largest upload (413), and a NUL character in the path or query (400; PostgreSQL cannot
    store one, and no name, id or search in relmark holds one)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > uploads.MAX_UPLOAD_BODY:
        return problems.problem(413, "Too large", uploads.too_large().detail)
    if "\x00" in request.url.path or "%00" in request.url.query:
        return problems.problem(400, "Bad request", "NUL characters are not allowed in URLs")
    return None


def create_app(engine: Engine, settings: Settings) -> FastAPI:
    app = FastAPI(
        title="relmark",
        version="0.1.0",
        description="Relationship marketing: customers, value, playbooks, tracking.",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.engine = engine
    # the shop's values (name, sender, currency…) live in the store and change while the
    # server runs: every request sees them at most LiveSettings.ttl seconds old
    app.state.live_settings = LiveSettings(engine, settings)
    app.state.settings = settings
    app.state.pages = Environment(
        loader=PackageLoader("relmark.interfaces.web", "templates"),
        autoescape=select_autoescape(default=True),
    )
    app.state.throttle = signin.LoginThrottle()
    app.state.figures = FigureCache(engine)
    app.state.interaction = Interaction(
        engine,
        settings,
        playbooks_dir=settings.playbooks_dir,
        templates_dir=settings.templates_dir,
    )
    app.add_exception_handler(StarletteHTTPException, problems.on_http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, problems.on_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(InvalidInput, problems.on_invalid_input)  # type: ignore[arg-type]
    app.add_exception_handler(RelmarkError, problems.on_relmark_error)  # type: ignore[arg-type]

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        live = request.app.state.live_settings
        if live.stale():  # one small query every few seconds, off the event loop
            request.app.state.settings = await run_in_threadpool(live.refresh)
        refused = _refuse_early(request)
        response: Response = refused or await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    # what any route may answer: a bad URL, no key, the wrong role (api.py adds the rest)
    app.include_router(api.router, responses=problems.documented(400, 401, 403))
    app.include_router(messages_api.router, responses=problems.documented(400, 401, 403))
    app.include_router(offers_api.router, responses=problems.documented(400, 401, 403))
    app.include_router(loyalty_api.router, responses=problems.documented(400, 401, 403))
    app.include_router(restrict_api.router, responses=problems.documented(400, 401, 403))
    app.include_router(gifts_api.router, responses=problems.documented(400, 401, 403))
    app.include_router(access_api.router, responses=problems.documented(400, 401, 403))
    app.include_router(privacy_api.router, responses=problems.documented(400, 401, 403))
    app.include_router(referrals_api.router, responses=problems.documented(400, 401, 403))
    app.include_router(tracking.router, responses=problems.documented(400, 401, 403, 413))
    app.include_router(links.router)
    app.include_router(pages.router)
    app.include_router(outbox_pages.router)
    app.include_router(settings_pages.router)
    app.include_router(gift_pages.router)
    app.include_router(import_pages.router)
    app.include_router(referral_pages.router)
    app.include_router(loyalty_pages.router)
    app.include_router(signin.router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.add_exception_handler(pages.SignIn, _to_login)  # type: ignore[arg-type]

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi(who: Annotated[Principal, Depends(require(Role.VIEWER))]) -> JSONResponse:
        return JSONResponse(get_openapi(title=app.title, version=app.version, routes=app.routes))

    return app


def app_from_settings() -> FastAPI:
    """The app for `relmark serve`: each worker process opens the store of its settings."""
    from relmark.config import get_settings
    from relmark.store.db import make_engine
    from relmark.store.migrate import ensure_current

    settings = get_settings()
    engine = make_engine(settings.database_url)
    ensure_current(engine)
    return create_app(engine, settings)
