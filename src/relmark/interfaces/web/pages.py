"""The dashboard: server-rendered pages (Jinja2 + HTMX), in the user's chosen language.

Pages call the same seams as the API and the CLI; they only choose words, numbers and
charts. A signed-out browser is sent to /login; forms carry the session's CSRF token.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import polars as pl
from babel.dates import format_date, format_datetime
from babel.numbers import (
    format_currency,
    format_decimal,
    format_percent,
    get_currency_precision,
)
from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from relmark.accounts import Principal, Role
from relmark.differentiate.profitability import whale_curve
from relmark.enums import RFM_SEGMENTS
from relmark.interact.templating import LANGUAGES, babel_locale
from relmark.interfaces.web import charts
from relmark.interfaces.web.auth import _check_csrf, actor_of, principal_of
from relmark.interfaces.web.bounds import CustomerIdPath, Name, page_from
from relmark.interfaces.web.i18n import choose, gettext_for
from relmark.interfaces.web.state import interaction
from relmark.store import audit, dashboard
from relmark.store import customers as customer_store

router = APIRouter(include_in_schema=False)
LANG_COOKIE = "relmark_lang"
LANGUAGE_NAMES = {
    "en": "English",
    "ms": "Bahasa Melayu",
    "kk": "Қазақша",
    "tl": "Tagalog",
    "uk": "Українська",
    "sl": "Slovenščina",
}


class SignIn(Exception):
    """Raised inside a page handler when the browser is not signed in."""


async def signed_in(request: Request, role: Role = Role.VIEWER) -> Principal:
    who = await principal_of(request)
    if who is None or who.kind != "user":
        raise SignIn
    if not who.may(role):
        raise HTTPException(403, f"this needs the {role} role; you have {who.role}")
    if request.method != "GET":
        await _check_csrf(request, who)
    return who


def page_language(request: Request) -> str:
    """?lang=, else the language cookie, else the browser's first choice, else English."""
    return _language(request)


def _language(request: Request) -> str:
    wanted = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if wanted in LANGUAGES:
        return wanted
    return choose(request.headers.get("accept-language", "").split(",")[0].split(";")[0])


class Formats:
    """Numbers, money, percentages and dates in the page's language."""

    def __init__(self, language: str) -> None:
        self.locale = babel_locale(language)

    def number(self, value: float | int | None, digits: int = 0) -> str:
        if value is None:
            return "—"
        return format_decimal(round(value, digits), locale=self.locale)

    def money(self, minor: int | None, currency: str | None) -> str:
        if minor is None or not currency:
            return "—"
        # minor units per major: 100 for most, 1 for JPY or KRW, 1,000 for KWD
        return format_currency(
            minor / 10 ** get_currency_precision(currency), currency, locale=self.locale
        )

    def percent(self, value: float | None) -> str:
        return "—" if value is None else format_percent(value, locale=self.locale)

    def when(self, value: datetime | None) -> str:
        return "—" if value is None else format_datetime(value, "medium", locale=self.locale)

    def day(self, value: datetime | date | None) -> str:
        return "—" if value is None else format_date(value, "medium", locale=self.locale)

    def amount(self, value: Decimal | str | None, currency: str | None) -> str:
        """Money given in major units (a decimal string, as the loyalty reports give it)."""
        if value is None or not currency:
            return "—"
        return format_currency(Decimal(value), currency, locale=self.locale)


def render(request: Request, who: Principal, template: str, **data: Any) -> HTMLResponse:
    language = _language(request)
    _ = gettext_for(language)
    html = request.app.state.pages.get_template(template).render(
        lang=language,
        languages=LANGUAGE_NAMES,
        shop=request.app.state.settings.shop_name,
        who=who,
        _=_,
        fmt=Formats(language),
        segment_name=lambda s: _(SEGMENT_LABELS.get(s, s)) if s else "—",
        path=request.url.path,
        **data,
    )
    response = HTMLResponse(html)
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANG_COOKIE, language, max_age=365 * 86400, samesite="lax")
    return response


SEGMENT_LABELS = {
    "champions": "Champions",
    "cant_lose": "Can't lose them",
    "at_risk": "At risk",
    "loyal": "Loyal",
    "new": "New",
    "promising": "Promising",
    "potential_loyalist": "Potential loyalists",
    "need_attention": "Need attention",
    "about_to_sleep": "About to sleep",
    "lost": "Lost",
    "hibernating": "Hibernating",
}


@router.get("/", response_class=HTMLResponse)
async def overview(request: Request) -> Response:
    who = await signed_in(request)
    return await run_in_threadpool(_overview_page, request, who)


def _overview_page(request: Request, who: Principal) -> Response:
    language = _language(request)
    figures = request.app.state.figures.get(
        ("overview", language), lambda: _overview_figures(request, language)
    )
    return render(request, who, "overview.html", **figures)


def _overview_figures(request: Request, language: str) -> dict[str, Any]:
    _ = gettext_for(language)
    fmt = Formats(language)
    with request.app.state.engine.connect() as connection:
        kpi = customer_store.kpis(connection)
        sizes = customer_store.segment_sizes(connection)
        grid = dashboard.rfm_grid(connection)
        values = dashboard.value_columns(connection)
        months = dashboard.revenue_by_month(connection)
    currency = kpi["currency"]
    return {
        "kpi": kpi,
        "segments": sizes,
        "segment_chart": charts.bars(
            [_(SEGMENT_LABELS.get(s["segment"], s["segment"])) for s in sizes],
            [s["customers"] for s in sizes],
            _("Customers per segment"),
            lambda v: fmt.number(v),
        ),
        "rfm_chart": charts.heatmap(
            grid, _("RFM grid"), _("Recency score"), _("Frequency and monetary score")
        ),
        "clv_chart": _clv_histogram(values, fmt, currency, _),
        "whale_chart": _whale(values, fmt, _),
        "trend_chart": _trend(months, fmt, currency, language, _),
    }


def _clv_histogram(values: pl.DataFrame, fmt: Formats, currency: str | None, _: Any) -> str:
    clv = values["clv_minor"].drop_nulls()
    if clv.is_empty() or not currency:
        return ""
    top = max(1, int(clv.quantile(0.99) or 1))
    step = 10 ** max(0, math.floor(math.log10(top / 8)))
    width = max(step, math.ceil(top / 8 / step) * step)
    edges = [i * width for i in range(9)]
    counts = [
        int(((clv >= low) & (clv < high)).sum()) if i < 7 else int((clv >= low).sum())
        for i, (low, high) in enumerate(zip(edges[:-1], edges[1:], strict=True))
    ]
    labels = [
        f"{fmt.money(low, currency)}–{fmt.money(high, currency)}"
        if i < 7
        else f"≥ {fmt.money(low, currency)}"
        for i, (low, high) in enumerate(zip(edges[:-1], edges[1:], strict=True))
    ]
    return charts.bars(labels, counts, _("Customer lifetime value"), lambda v: fmt.number(v))


def _trend(
    months: list[tuple[str, str, int]], fmt: Formats, currency: str | None, language: str, _: Any
) -> str:
    """Revenue per month in the main currency: the trend of the relationship."""
    main = currency or (months[0][1] if months else None)
    chosen = [(m, v) for m, c, v in months if c == main]
    if not chosen or not main:
        return ""
    labels = [
        format_date(date.fromisoformat(f"{m}-01"), "MMM y", locale=fmt.locale) for m, _v in chosen
    ]
    return charts.bars(
        labels, [v for _m, v in chosen], _("Revenue per month"), lambda v: fmt.money(int(v), main)
    )


def _whale(values: pl.DataFrame, fmt: Formats, _: Any) -> str:
    profits = values.select(pl.col("profit_minor").alias("profit")).drop_nulls()
    if profits.is_empty():
        return ""
    curve = whale_curve(profits.cast(pl.Float64))
    points = [(0.0, 0.0), *zip(curve["customer_share"], curve["profit_share"], strict=True)]
    return charts.line(
        points, _("Whale curve"), _("Share of customers"), _("Share of profit"), fmt.percent
    )


def _customer_rows(request: Request) -> tuple[int, list[dict[str, Any]]]:
    params = request.query_params
    page = page_from(params.get("page"))  # ?page=abc or 10**30: page 1, never a 500
    filters = {
        "q": (params.get("q") or "")[:200] or None,
        "segment": params.get("segment") if params.get("segment") in RFM_SEGMENTS else None,
    }
    return search_with_cached_total(request, filters, limit=50, offset=(page - 1) * 50)


def search_with_cached_total(
    request: Request, filters: dict[str, Any], **page: Any
) -> tuple[int, list[dict[str, Any]]]:
    """A page of customers; the count of all matches comes from the figure cache."""
    engine = request.app.state.engine

    def total() -> int:
        with engine.connect() as connection:
            return customer_store.count(connection, **filters)

    known = request.app.state.figures.get(("count", tuple(sorted(filters.items()))), total)
    with engine.connect() as connection:
        return customer_store.search(connection, **filters, **page, total=known)


def _latest_run(request: Request) -> dict[str, Any] | None:
    """The latest scoring run's model, reasons for empty values, horizon and margin."""
    with request.app.state.engine.connect() as connection:
        return customer_store.run_summary(connection, customer_store.latest_run(connection))


@router.get("/customers", response_class=HTMLResponse)
async def customers(request: Request) -> Response:
    who = await signed_in(request)
    return await run_in_threadpool(_customers_page, request, who, "customers.html")


@router.get("/customers/rows", response_class=HTMLResponse)
async def customer_rows(request: Request) -> Response:
    """The table body alone, for HTMX as the user types."""
    who = await signed_in(request)
    return await run_in_threadpool(_customers_page, request, who, "customer_rows.html")


def _customers_page(request: Request, who: Principal, template: str) -> Response:
    total, rows = _customer_rows(request)
    segment = request.query_params.get("segment")
    return render(
        request,
        who,
        template,
        total=total,
        rows=rows,
        run=_latest_run(request),
        segment=segment if segment in RFM_SEGMENTS else None,
        q=request.query_params.get("q", ""),
    )


@router.get("/segments/{name}", response_class=HTMLResponse)
async def segment(request: Request, name: Name) -> Response:
    await signed_in(request)
    if name not in RFM_SEGMENTS:
        raise HTTPException(404, f"no segment named {name!r}")
    return RedirectResponse(f"/customers?segment={name}", status_code=303)


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
async def customer(request: Request, customer_id: CustomerIdPath) -> Response:
    who = await signed_in(request)
    return await run_in_threadpool(_customer_page, request, who, customer_id)


def _customer_page(request: Request, who: Principal, customer_id: int) -> Response:
    with request.app.state.engine.begin() as connection:
        found = customer_store.profile(connection, customer_id)
        if found is not None:  # a 360 view reads personal data: the trail says who did
            audit.record(
                connection, actor_of(request, who), "customer.view", customer_id=customer_id
            )
    if found is None:
        raise HTTPException(404, f"no customer with id {customer_id}")
    timeline = sorted(
        [("order", o["ordered_at"], o) for o in found["orders"]]
        + [("message", m["due_at"], m) for m in found["messages"]]
        + [("event", e["at"], e) for e in found["events"]],
        key=lambda item: item[1],
        reverse=True,
    )
    from relmark.interfaces.web.member_blocks import member_blocks

    language = _language(request)
    blocks = member_blocks(request, customer_id, language, gettext_for(language))
    return render(request, who, "customer.html", c=found, timeline=timeline[:200], **blocks)


@router.get("/playbooks", response_class=HTMLResponse)
async def playbooks(request: Request) -> Response:
    who = await signed_in(request)

    def page() -> Response:
        relmark = interaction(request)
        uplift = {row["playbook"]: row for row in relmark.uplift()["playbooks"]}
        listed = relmark.playbook_list()
        return render(request, who, "playbooks.html", playbooks=listed, uplift=uplift)

    return await run_in_threadpool(page)


@router.get("/playbooks/{name}/preview", response_class=HTMLResponse)
async def playbook_preview(request: Request, name: Name) -> Response:
    who = await signed_in(request, Role.ANALYST)

    def page() -> Response:
        now = datetime.now(UTC)
        result = interaction(request).plan(now, now, write=False, only_playbook=name)
        return render(request, who, "preview.html", name=name, result=result.summary())

    return await run_in_threadpool(page)


@router.post("/playbooks/{name}/toggle")
async def playbook_toggle(request: Request, name: Name) -> Response:
    who = await signed_in(request, Role.MARKETER)
    form = await request.form()
    enabled = form.get("enabled") == "1"
    await run_in_threadpool(
        interaction(request).enable, name, enabled, datetime.now(UTC), actor_of(request, who)
    )
    return RedirectResponse("/playbooks", status_code=303)
