"""Customers' links from messages: unsubscribe (page and RFC 8058 one-click), preference
centre, open pixel, click redirect, rating. Public: the signed token is the authority, and it
names one message, customer and purpose. Pages speak the customer's language."""

from __future__ import annotations

import base64
import contextlib
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from relmark.enums import ConsentStatus
from relmark.errors import RelmarkError
from relmark.interact.tokens import InvalidToken, LinkClaim, LinkKind
from relmark.interaction import Interaction
from relmark.interfaces.web.i18n import choose, gettext_for
from relmark.store import consents
from relmark.store.models import Customer

router = APIRouter(tags=["links"], include_in_schema=False)
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _interaction(request: Request) -> Interaction:
    settings = request.app.state.settings
    return Interaction(
        request.app.state.engine,
        settings,
        playbooks_dir=settings.playbooks_dir,
        templates_dir=settings.templates_dir,
    )


def _page(
    request: Request, template: str, language: str, status: int = 200, **data: Any
) -> HTMLResponse:
    _ = gettext_for(language)
    context = {"lang": language, "shop": request.app.state.settings.shop_name, "_": _, **data}
    if callable(context.get("title")):
        context["title"] = context["title"](_)
    html = request.app.state.pages.get_template(template).render(context)
    return HTMLResponse(html, status_code=status, headers=NO_STORE)


def _language_of(request: Request, customer_id: int | None) -> str:
    if customer_id is not None:
        with request.app.state.engine.connect() as connection:
            language = connection.execute(
                select(Customer.language).where(Customer.id == customer_id)
            ).scalar_one_or_none()
        if language:
            return choose(language)
    return choose(request.headers.get("accept-language", "").split(",")[0].split(";")[0])


def _invalid(request: Request) -> HTMLResponse:
    language = _language_of(request, None)
    _ = gettext_for(language)
    return _page(
        request,
        "message.html",
        language,
        status=400,
        title=_("This link is not valid"),
        text=_("This link was altered or has expired. Nothing was changed."),
        preferences=None,
    )


def _claim(request: Request, kind: LinkKind, token: str) -> LinkClaim | None:
    try:
        return _interaction(request).signer(datetime.now(UTC)).verify(kind, token)
    except InvalidToken:
        return None


@router.get("/u/{token}", response_class=HTMLResponse)
def unsubscribe_page(request: Request, token: str) -> HTMLResponse:
    """Asks first: mail scanners follow links, and a GET must not unsubscribe anyone."""
    claim = _claim(request, LinkKind.UNSUBSCRIBE, token)
    if claim is None:
        return _invalid(request)
    language = _language_of(request, claim.customer_id)
    _ = gettext_for(language)
    return _page(
        request,
        "unsubscribe.html",
        language,
        title=_("Unsubscribe"),
        purpose=claim.purpose,
        action=f"/u/{token}",
        preferences=f"/p/{token}",
    )


@router.post("/u/{token}")
def unsubscribe(request: Request, token: str) -> Response:
    """One click (RFC 8058: `List-Unsubscribe=One-Click` from the mail program) or the
    page's button: withdraws consent and holds every unsent message of that purpose."""
    claim = _claim(request, LinkKind.UNSUBSCRIBE, token)
    if claim is None:
        return _invalid(request)
    one_click = request.headers.get("content-type", "").startswith(
        "application/x-www-form-urlencoded"
    )
    _interaction(request).unsubscribe(
        token, datetime.now(UTC), via="one-click" if one_click else "link"
    )
    language = _language_of(request, claim.customer_id)
    _ = gettext_for(language)
    return _page(
        request,
        "message.html",
        language,
        title=_("You are unsubscribed"),
        text=_("You will not receive these emails any more."),
        preferences=f"/p/{token}",
    )


def _preferences(request: Request, customer_id: int) -> dict[str, bool]:
    with request.app.state.engine.connect() as connection:
        held = consents.effective(
            consents.latest_statements(connection, customer_id=customer_id, channel="email")
        )
    status = {row["purpose"]: row["status"] for row in held.iter_rows(named=True)}
    return {
        "marketing": status.get("marketing") == ConsentStatus.GRANTED.value,
        "service": status.get("service") != ConsentStatus.WITHDRAWN.value,
    }


@router.get("/p/{token}", response_class=HTMLResponse)
def preferences_page(request: Request, token: str) -> HTMLResponse:
    claim = _claim(request, LinkKind.UNSUBSCRIBE, token)
    if claim is None:
        return _invalid(request)
    language = _language_of(request, claim.customer_id)
    _ = gettext_for(language)
    return _page(
        request,
        "preferences.html",
        language,
        title=_("Your preferences"),
        action=f"/p/{token}",
        saved=False,
        **_preferences(request, claim.customer_id),
    )


@router.post("/p/{token}", response_class=HTMLResponse)
async def save_preferences(request: Request, token: str) -> HTMLResponse:
    claim = _claim(request, LinkKind.UNSUBSCRIBE, token)
    if claim is None:
        return _invalid(request)
    form = await request.form()
    wanted = {"marketing": form.get("marketing") == "1", "service": form.get("service") == "1"}
    current = _preferences(request, claim.customer_id)
    now = datetime.now(UTC)
    relmark = _interaction(request)
    for purpose, on in wanted.items():
        if on != current[purpose]:
            relmark.record_consent(
                claim.customer_id,
                purpose=purpose,
                channel="email",
                status=ConsentStatus.GRANTED if on else ConsentStatus.WITHDRAWN,
                source="preference-centre",
                proof=f"preference centre, link of message {claim.message_id}, {now.isoformat()}",
                wording_version="preference-centre-v1",
                now=now,
            )
    language = _language_of(request, claim.customer_id)
    _ = gettext_for(language)
    return _page(
        request,
        "preferences.html",
        language,
        title=_("Your preferences"),
        action=f"/p/{token}",
        saved=True,
        **_preferences(request, claim.customer_id),
    )


@router.get("/t/o/{token}.gif")
def open_pixel(request: Request, token: str) -> Response:
    with contextlib.suppress(RelmarkError):  # a forged pixel is still an image, unrecorded
        _interaction(request).track(LinkKind.OPEN, token, datetime.now(UTC))
    return Response(PIXEL, media_type="image/gif", headers=NO_STORE)


@router.get("/t/c/{token}")
def click(request: Request, token: str) -> Response:
    """Record the click and go where the message said; never to an unsigned address."""
    try:
        claim = _interaction(request).track(LinkKind.CLICK, token, datetime.now(UTC))
    except InvalidToken:
        return _invalid(request)
    target = claim.url or ""
    if urlparse(target).scheme not in ("http", "https"):
        return _invalid(request)
    return RedirectResponse(target, status_code=302, headers=NO_STORE)


@router.get("/t/r/{token}", response_class=HTMLResponse)
def rating(request: Request, token: str) -> HTMLResponse:
    try:
        claim = _interaction(request).track(LinkKind.RATING, token, datetime.now(UTC))
    except InvalidToken:
        return _invalid(request)
    language = _language_of(request, claim.customer_id)
    _ = gettext_for(language)
    return _page(
        request,
        "message.html",
        language,
        title=_("Thank you"),
        text=_("Thank you for your rating!"),
        preferences=None,
    )
