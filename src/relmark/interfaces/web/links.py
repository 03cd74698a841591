"""Customers' links from messages: unsubscribe (page and RFC 8058 one-click), preference
centre, double opt-in confirmation, open pixel, click redirect, rating. Public: the signed
token is the authority, and it names one message, customer and purpose. Pages speak the
customer's language."""

from __future__ import annotations

import base64
import contextlib
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from relmark.enums import ConsentStatus
from relmark.errors import InvalidInput, RelmarkError
from relmark.interact.tokens import InvalidToken, LinkClaim, LinkKind
from relmark.interfaces.web.i18n import choose, gettext_for
from relmark.interfaces.web.state import interaction
from relmark.store import consents
from relmark.store.audit import Actor
from relmark.store.models import Customer

router = APIRouter(tags=["links"], include_in_schema=False)
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _page(
    request: Request, template: str, language: str, status: int = 200, **data: Any
) -> HTMLResponse:
    _ = gettext_for(language)
    context = {"lang": language, "shop": request.app.state.settings.shop_name, "_": _, **data}
    html = request.app.state.pages.get_template(template).render(context)
    return HTMLResponse(html, status_code=status, headers=NO_STORE)


def N_(message: str) -> str:  # noqa: N802 - gettext's marker: translated when shown
    return message


def _say(
    request: Request,
    customer_id: int | None,
    title: str,
    text: str | None = None,
    *,
    template: str = "message.html",
    status: int = 200,
    **data: Any,
) -> HTMLResponse:
    """A page in the customer's language (the browser's, when the customer is unknown)."""
    language = _language_of(request, customer_id)
    _ = gettext_for(language)
    words = {"title": _(title)} | ({"text": _(text)} if text else {})
    return _page(request, template, language, status=status, **words, **data)


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
    return _say(
        request,
        None,
        N_("This link is not valid"),
        N_("This link was altered or has expired. Nothing was changed."),
        status=400,
        preferences=None,
    )


def _claim(request: Request, kind: LinkKind, token: str) -> LinkClaim | None:
    try:
        return interaction(request).signer(datetime.now(UTC)).verify(kind, token)
    except InvalidToken:
        return None


@router.get("/u/{token}", response_class=HTMLResponse)
def unsubscribe_page(request: Request, token: str) -> HTMLResponse:
    """Asks first: mail scanners follow links, and a GET must not unsubscribe anyone."""
    claim = _claim(request, LinkKind.UNSUBSCRIBE, token)
    if claim is None:
        return _invalid(request)
    customer_id = _profile(request, claim)
    return _say(
        request,
        customer_id,
        N_("Unsubscribe"),
        template="unsubscribe.html",
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
    done = interaction(request).unsubscribe(
        token, datetime.now(UTC), via="one-click" if one_click else "link", origin=_origin(request)
    )
    return _say(
        request,
        done["customer_id"],
        N_("You are unsubscribed"),
        N_("You will not receive these emails any more."),
        preferences=f"/p/{token}",
    )


def _profile(request: Request, claim: LinkClaim) -> int:
    """The live profile the link's message belongs to now (a merge may have moved it)."""
    return interaction(request).linked_message(claim)[1]


def _origin(request: Request) -> str:
    """Where a customer's click came from, for the proof: address and browser."""
    host = request.client.host if request.client else "unknown"
    agent = request.headers.get("user-agent", "")[:150]
    return f"{host} {agent}".strip()


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
    customer_id = _profile(request, claim)
    return _say(
        request,
        customer_id,
        N_("Your preferences"),
        template="preferences.html",
        action=f"/p/{token}",
        saved=False,
        **_preferences(request, customer_id),
    )


@router.post("/p/{token}", response_class=HTMLResponse)
async def save_preferences(request: Request, token: str) -> HTMLResponse:
    form = await request.form()  # reading the body is the only await: the rest is store work
    wanted = {"marketing": form.get("marketing") == "1", "service": form.get("service") == "1"}
    return await run_in_threadpool(_save_preferences, request, token, wanted)


def _save_preferences(request: Request, token: str, wanted: dict[str, bool]) -> HTMLResponse:
    claim = _claim(request, LinkKind.UNSUBSCRIBE, token)
    if claim is None:
        return _invalid(request)
    customer_id = _profile(request, claim)
    current = _preferences(request, customer_id)
    now = datetime.now(UTC)
    relmark = interaction(request)
    for purpose, on in wanted.items():
        if on != current[purpose]:
            relmark.record_consent(
                customer_id,
                purpose=purpose,
                channel="email",
                status=ConsentStatus.GRANTED if on else ConsentStatus.WITHDRAWN,
                source="preference-centre",
                proof=f"preference centre, link of message {claim.message_id}, {now.isoformat()}",
                wording_version="preference-centre-v1",
                now=now,
                actor=Actor("link", "preference-centre", _origin(request)),
            )
    return _say(
        request,
        customer_id,
        N_("Your preferences"),
        template="preferences.html",
        action=f"/p/{token}",
        saved=True,
        **_preferences(request, customer_id),
    )


@router.get("/c/{token}", response_class=HTMLResponse)
def confirm_page(request: Request, token: str) -> HTMLResponse:
    """Double opt-in: asks first, because mail scanners follow links and consent must be
    the customer's own click."""
    claim = _claim(request, LinkKind.CONFIRM, token)
    if claim is None:
        return _invalid(request)
    return _say(
        request,
        _profile(request, claim),
        N_("Confirm your subscription"),
        template="confirm.html",
        action=f"/c/{token}",
    )


@router.post("/c/{token}", response_class=HTMLResponse)
def confirm(request: Request, token: str) -> HTMLResponse:
    """The confirming click: e-mail marketing becomes granted, with this click as proof."""
    if _claim(request, LinkKind.CONFIRM, token) is None:
        return _invalid(request)
    try:
        done = interaction(request).confirm(token, datetime.now(UTC), origin=_origin(request))
    except InvalidInput:
        return _say(
            request,
            None,
            N_("This link is not valid"),
            N_("This confirmation link has expired. Nothing was changed."),
            status=400,
            preferences=None,
        )
    return _say(
        request,
        done["customer_id"],
        N_("Your subscription is confirmed"),
        N_("Thank you! You will receive our offers and news by e-mail."),
        preferences=None,
    )


@router.get("/t/o/{token}.gif")
def open_pixel(request: Request, token: str) -> Response:
    with contextlib.suppress(RelmarkError):  # a forged pixel is still an image, unrecorded
        interaction(request).track(LinkKind.OPEN, token, datetime.now(UTC))
    return Response(PIXEL, media_type="image/gif", headers=NO_STORE)


@router.get("/t/c/{token}")
def click(request: Request, token: str) -> Response:
    """Record the click and go where the message said; never to an unsigned address."""
    try:
        claim = interaction(request).track(LinkKind.CLICK, token, datetime.now(UTC))
    except InvalidToken:
        return _invalid(request)
    target = claim.url or ""
    if urlparse(target).scheme not in ("http", "https"):
        return _invalid(request)
    return RedirectResponse(target, status_code=302, headers=NO_STORE)


@router.get("/t/r/{token}", response_class=HTMLResponse)
def rating_page(request: Request, token: str) -> HTMLResponse:
    """Asks first: mail scanners open every link in a message, and a GET must not record
    ten ratings for one customer."""
    claim = _claim(request, LinkKind.RATING, token)
    if claim is None:
        return _invalid(request)
    return _say(
        request,
        claim.customer_id,
        N_("Your rating"),
        template="rating.html",
        score=claim.score,
        action=f"/t/r/{token}",
    )


@router.post("/t/r/{token}", response_class=HTMLResponse)
def rating(request: Request, token: str) -> HTMLResponse:
    try:
        claim = interaction(request).track(LinkKind.RATING, token, datetime.now(UTC))
    except InvalidToken:
        return _invalid(request)
    return _say(
        request,
        claim.customer_id,
        N_("Thank you"),
        N_("Thank you for your rating!"),
        preferences=None,
    )
