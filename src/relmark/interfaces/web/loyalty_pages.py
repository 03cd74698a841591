"""The dashboard's /loyalty page: the rewards catalogue (what points buy) and the liability
for finance — outstanding points, their value and expected breakage by month of expiry.

Thin over the programme and `liability_report` (the same seam as
`GET /api/v1/loyalty/liability`, and the same role: analyst).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from babel.dates import format_date
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from relmark.accounts import Principal, Role
from relmark.errors import InvalidInput
from relmark.interfaces.web.pages import Formats, _language, render, signed_in

router = APIRouter(include_in_schema=False)


@router.get("/loyalty", response_class=HTMLResponse)
async def loyalty_page(request: Request) -> Response:
    who = await signed_in(request, Role.ANALYST)
    return await run_in_threadpool(_page, request, who)


def _page(request: Request, who: Principal) -> Response:
    from relmark.interact.loyalty import is_enabled, liability_report, load_programme

    settings = request.app.state.settings
    try:
        programme = load_programme(settings.loyalty_file)
    except InvalidInput as exc:
        problem = "; ".join(p.message for p in exc.problems)
        return render(request, who, "loyalty.html", problem=problem)
    engine = request.app.state.engine
    report = liability_report(engine, programme, datetime.now(UTC))
    with engine.connect() as connection:
        enabled = is_enabled(connection)
    language = _language(request)
    fmt = Formats(language)
    gifts = _gift_names(settings, language) if any(r.gift for r in programme.rewards) else {}
    rewards = [
        {
            "title": r.title,
            "points": r.points,
            "amount": r.amount,
            "percent_off": r.percent_off,
            "gift": gifts.get(r.gift, r.gift) if r.gift else None,
            "valid_days": r.valid_days,
        }
        for r in programme.rewards
    ]
    for row in report["by_month"]:
        row["label"] = _month(row["expires"], fmt)
    return render(
        request,
        who,
        "loyalty.html",
        problem=None,
        enabled=enabled,
        programme=programme,
        rewards=rewards,
        report=report,
        point_value=Decimal(report["point_value"]),
    )


def _gift_names(settings: Any, language: str) -> dict[str, str]:
    from relmark.interact.gift_catalogue import load_gifts

    try:
        return {k: g.name_in(language) for k, g in load_gifts(settings.gifts_dir).items()}
    except InvalidInput:
        return {}


def _month(expires: str, fmt: Formats) -> str | None:
    """'2027-03' as the reader's month and year; None for points that never expire."""
    if expires == "never":
        return None
    return format_date(date.fromisoformat(f"{expires}-01"), "LLLL y", locale=fmt.locale)
