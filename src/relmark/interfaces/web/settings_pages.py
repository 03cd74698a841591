"""The dashboard's settings page: the contact policy (marketers) and the shop's own settings
(administrators: name, sender, URLs, currency, zone, logo; see `relmark.shop_settings`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from relmark import shop_settings
from relmark.accounts import Principal, Role
from relmark.errors import InvalidInput
from relmark.interfaces.web.auth import actor_of
from relmark.interfaces.web.pages import render, signed_in
from relmark.interfaces.web.state import interaction

router = APIRouter(include_in_schema=False)

POLICY_FIELDS = (
    "max_per_7_days",
    "max_per_30_days",
    "min_hours_between",
    "quiet_start",
    "quiet_end",
)
#: What the page says when a value is refused: plain words per kind, translated in the
#: catalogues (the CLI's English reasons name the exact fault).
FIELD_PROBLEMS = {
    "text": "Write it on one line, in at most 500 characters.",
    "url": "Enter a web address that starts with http:// or https://, such as "
    "https://shop.example.",
    "address": "Enter one e-mail address, such as Shop <hello@shop.example>.",
    "currency": "Enter a three-letter currency code, such as EUR, USD or MYR.",
    "zone": "Enter a time zone by its full name, such as Europe/Ljubljana or Asia/Manila.",
}


def _shop_rows(request: Request) -> list[dict[str, Any]]:
    """Each shop setting with its label, effective value and source (blocking: a query)."""
    live = request.app.state.live_settings
    values = shop_settings.effective(request.app.state.engine, live.base)
    return [
        {
            "key": v.key,
            "label": shop_settings.FIELDS[v.key].label,
            "value": v.value or "",
            "source": v.source,
            "env": shop_settings.FIELDS[v.key].env,
        }
        for v in values
    ]


def _page(
    request: Request,
    who: Principal,
    *,
    policy_problems: list[str] | None = None,
    policy_saved: bool = False,
    shop_problems: dict[str, str] | None = None,
    shop_saved: bool = False,
    submitted: dict[str, str] | None = None,
) -> HTMLResponse:
    policy = interaction(request).policy().model_dump(mode="json")
    rows = _shop_rows(request)
    for row in rows:  # a refused form shows what was typed, next to why
        if submitted and row["key"] in submitted and row["source"] != "env":
            row["value"] = submitted[row["key"]]
    return render(
        request,
        who,
        "settings.html",
        policy=policy,
        problems=policy_problems,
        saved=policy_saved,
        shop_fields=rows,
        shop_problems=shop_problems or {},
        shop_saved=shop_saved,
        shop_editable=who.may(Role.ADMIN),
        field_problems=FIELD_PROBLEMS,
    )


@router.get("/settings", response_class=HTMLResponse)
async def settings_page(request: Request) -> Response:
    who = await signed_in(request, Role.MARKETER)
    return await run_in_threadpool(lambda: _page(request, who))


@router.post("/settings", response_class=HTMLResponse)
async def settings_save(request: Request) -> Response:
    who = await signed_in(request, Role.MARKETER)
    form = await request.form()
    changes = {f: str(form.get(f, "")).strip() for f in POLICY_FIELDS}
    relmark = interaction(request)
    problems, saved = None, False
    try:
        await run_in_threadpool(
            relmark.set_policy, changes, datetime.now(UTC), actor_of(request, who)
        )
        saved = True
    except InvalidInput as exc:
        problems = [p.message + (f" ({p.column})" if p.column else "") for p in exc.problems]
    return await run_in_threadpool(
        lambda: _page(request, who, policy_problems=problems, policy_saved=saved)
    )


@router.post("/settings/shop", response_class=HTMLResponse)
async def shop_save(request: Request) -> Response:
    """Save the shop's settings: an emptied field goes back to its default; a field the
    environment sets is not the page's to change; one bad value and nothing is saved."""
    who = await signed_in(request, Role.ADMIN)
    form = await request.form()
    submitted = {
        key: str(form.get(key, ""))[: shop_settings.MAX_LENGTH * 2].strip()
        for key in shop_settings.FIELDS
        if key in form
    }

    def save() -> HTMLResponse:
        current = {row["key"]: row for row in _shop_rows(request)}
        changes: dict[str, str | None] = {
            key: value or None
            for key, value in submitted.items()
            if current[key]["source"] != "env" and value != current[key]["value"]
        }
        problems: dict[str, str] = {}
        for key, value in changes.items():
            try:
                shop_settings.check({key: value})
            except InvalidInput:
                problems[key] = FIELD_PROBLEMS[shop_settings.FIELDS[key].kind]
        if problems:
            return _page(request, who, shop_problems=problems, submitted=submitted)
        shop_settings.change(
            request.app.state.engine, changes, datetime.now(UTC), actor_of(request, who)
        )
        request.app.state.settings = request.app.state.live_settings.refresh()
        return _page(request, who, shop_saved=True)

    return await run_in_threadpool(save)
