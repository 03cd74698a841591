"""The dashboard's pick list (/gifts): gifts promised and not yet sent, who and where to,
since when, and the order each can travel with; a marketer marks one fulfilled with that
order (a form with the session's CSRF token)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from relmark import gift_picking
from relmark.accounts import Principal, Role
from relmark.errors import InvalidInput
from relmark.interfaces.web.auth import actor_of
from relmark.interfaces.web.bounds import page_from
from relmark.interfaces.web.pages import _language, render, signed_in

router = APIRouter(include_in_schema=False)
PER_PAGE = 50


def _page(request: Request, who: Principal, problem: str | None = None) -> HTMLResponse:
    due = request.query_params.get("due") == "1"
    page = page_from(request.query_params.get("page"))
    listed = gift_picking.pick_list(
        request.app.state.engine,
        request.app.state.settings,
        due_only=due,
        language=_language(request),
        limit=PER_PAGE,
        offset=(page - 1) * PER_PAGE,
    )
    link = lambda number: "/gifts?" + urlencode({"due": int(due), "page": number})  # noqa: E731
    return render(
        request,
        who,
        "gifts.html",
        rows=listed.rows,
        shelf=listed.shelf,
        total=listed.total,
        due=due,
        editable=who.may(Role.MARKETER),
        problem=problem,
        fulfilled=request.query_params.get("fulfilled"),
        previous=link(page - 1) if page > 1 else None,
        next=link(page + 1) if page * PER_PAGE < listed.total else None,
    )


@router.get("/gifts", response_class=HTMLResponse)
async def gifts_page(request: Request) -> Response:
    who = await signed_in(request)
    return await run_in_threadpool(_page, request, who)


@router.post("/gifts/{code}/fulfil", response_class=HTMLResponse)
async def fulfil_from_dashboard(request: Request, code: str) -> Response:
    who = await signed_in(request, Role.MARKETER)
    form = await request.form()
    order = str(form.get("order") or "")[:200]

    def act() -> Any:
        try:
            gift_picking.fulfil(
                request.app.state.engine,
                code[:40],
                order,
                datetime.now(UTC),
                actor_of(request, who),
            )
        except InvalidInput as exc:
            return _page(request, who, problem=f"{code[:40]}: {exc.problems[0].message}")
        back = {"due": 1} if form.get("due") == "1" else {}
        return RedirectResponse(
            "/gifts?" + urlencode({**back, "fulfilled": code[:40]}), status_code=303
        )

    return await run_in_threadpool(act)
