"""The ASGI application: routers, error shape, security headers, sign-in.

`create_app(engine, settings)` builds it; `relmark serve` runs it under uvicorn.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from relmark import accounts
from relmark.accounts import Principal, Role
from relmark.config import Settings
from relmark.errors import InvalidInput, RelmarkError
from relmark.interaction import Interaction
from relmark.interfaces.web import api, links, pages, privacy_api, problems, tracking
from relmark.interfaces.web.auth import SESSION_COOKIE, require
from relmark.interfaces.web.cache import FigureCache
from relmark.interfaces.web.i18n import gettext_for

STATIC = Path(__file__).with_name("static")
LOGIN_ATTEMPTS = 5
LOGIN_WINDOW_SECONDS = 15 * 60
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
}


class LoginThrottle:
    """At most LOGIN_ATTEMPTS failed sign-ins per address and e-mail in the window."""

    def __init__(self) -> None:
        self.failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)

    def blocked(self, key: tuple[str, str]) -> bool:
        recent = self.failures[key]
        while recent and recent[0] < time.monotonic() - LOGIN_WINDOW_SECONDS:
            recent.popleft()
        return len(recent) >= LOGIN_ATTEMPTS

    def failed(self, key: tuple[str, str]) -> None:
        self.failures[key].append(time.monotonic())

    def succeeded(self, key: tuple[str, str]) -> None:
        self.failures.pop(key, None)


async def _to_login(request: Request, exc: Exception) -> Response:
    return RedirectResponse("/login", status_code=303)


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
    app.state.settings = settings
    app.state.pages = Environment(
        loader=PackageLoader("relmark.interfaces.web", "templates"),
        autoescape=select_autoescape(default=True),
    )
    app.state.throttle = LoginThrottle()
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
        response: Response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    app.include_router(api.router)
    app.include_router(privacy_api.router)
    app.include_router(tracking.router)
    app.include_router(links.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.add_exception_handler(pages.SignIn, _to_login)  # type: ignore[arg-type]
    _session_routes(app)

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi(who: Annotated[Principal, Depends(require(Role.VIEWER))]) -> JSONResponse:
        return JSONResponse(get_openapi(title=app.title, version=app.version, routes=app.routes))

    return app


def _session_routes(app: FastAPI) -> None:
    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request, failed: int = 0) -> HTMLResponse:
        language = pages.page_language(request)
        html = request.app.state.pages.get_template("login.html").render(
            lang=language,
            _=gettext_for(language),
            failed=bool(failed),
            shop=request.app.state.settings.shop_name,
        )
        return HTMLResponse(html)

    @app.post("/login", include_in_schema=False)
    def login(
        request: Request,
        email: Annotated[str, Form(max_length=320)],
        password: Annotated[str, Form(max_length=1000)],
    ) -> Response:
        throttle: LoginThrottle = request.app.state.throttle
        key = (request.client.host if request.client else "?", email.strip().lower())
        if throttle.blocked(key):
            raise HTTPException(429, "too many failed sign-ins; wait a quarter of an hour")
        user = accounts.authenticate(request.app.state.engine, email, password)
        if user is None:
            throttle.failed(key)
            return RedirectResponse("/login?failed=1", status_code=303)
        throttle.succeeded(key)
        token, _csrf = accounts.start_session(request.app.state.engine, user, datetime.now(UTC))
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

    @app.post("/logout", include_in_schema=False)
    def logout(
        request: Request, who: Annotated[Principal, Depends(require(Role.VIEWER))]
    ) -> Response:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            accounts.end_session(request.app.state.engine, token)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response


def app_from_settings() -> FastAPI:
    """The app for `relmark serve`: each worker process opens the store of its settings."""
    from relmark.config import get_settings
    from relmark.store.db import make_engine
    from relmark.store.migrate import ensure_current

    settings = get_settings()
    engine = make_engine(settings.database_url)
    ensure_current(engine)
    return create_app(engine, settings)
