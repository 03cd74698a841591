"""The dashboard's outbox: counts by playbook, status and reason, each a link down to the
messages behind it (who, why in plain words, when), filtered and paged.

The list reads the same store query as the API and `relmark outbox --list`. Filters come
from the URL as people type them: a wrong date or id is said on the page, never a 500.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from relmark.accounts import Principal
from relmark.interfaces.web.bounds import MAX_ID, page_from
from relmark.interfaces.web.i18n import gettext_for
from relmark.interfaces.web.pages import _language, render, signed_in
from relmark.message_reasons import reason_text
from relmark.store import message_list, outbox
from relmark.store.message_list import STATUSES, MessageFilter

router = APIRouter(include_in_schema=False)
PER_PAGE = 50
#: The reason box's word for "messages without a reason" (an empty box means any reason).
NONE = "-"
TIME_FIELDS = ("due_from", "due_to", "sent_from", "sent_to")
STATUS_LABELS = {
    "planned": "Planned",
    "sending": "Sending",
    "sent": "Sent",
    "held": "Held",
    "failed": "Failed",
}


@router.get("/outbox", response_class=HTMLResponse)
async def outbox_page(request: Request) -> Response:
    who = await signed_in(request)

    def page() -> Response:
        with request.app.state.engine.connect() as connection:
            counts = outbox.outbox_counts(connection)
        for row in counts:
            row["href"] = "/outbox/messages?" + urlencode(
                {
                    "playbook": row["playbook"],
                    "status": row["status"],
                    "reason": row["reason"] or NONE,
                }
            )
        return render(request, who, "outbox.html", counts=counts, **_words(request))

    return await run_in_threadpool(page)


@router.get("/outbox/messages", response_class=HTMLResponse)
async def outbox_messages(request: Request) -> Response:
    """The messages behind a count: filters in the query string, 50 to a page."""
    who = await signed_in(request)
    return await run_in_threadpool(_messages_page, request, who)


def _messages_page(request: Request, who: Principal) -> Response:
    _ = gettext_for(_language(request))
    given, wanted, problems = _filters(request, _)
    page = page_from(request.query_params.get("page"))
    total, rows = 0, []
    if not problems:
        with request.app.state.engine.connect() as connection:
            total, rows = message_list.list_messages(
                connection, wanted, limit=PER_PAGE, offset=(page - 1) * PER_PAGE
            )
    kept = {k: v for k, v in given.items() if v is not None}
    link = lambda number: "/outbox/messages?" + urlencode({**kept, "page": number})  # noqa: E731
    return render(
        request,
        who,
        "outbox_messages.html",
        given=given,
        statuses=STATUSES,
        rows=rows,
        total=total,
        first=(page - 1) * PER_PAGE + 1,
        last=(page - 1) * PER_PAGE + len(rows),
        previous=link(page - 1) if page > 1 and not problems else None,
        next=link(page + 1) if page * PER_PAGE < total else None,
        problems=problems,
        **_words(request),
    )


def _words(request: Request) -> dict[str, Any]:
    """Status and reason in the page's language; the code stays beside the reason."""
    _ = gettext_for(_language(request))
    return {
        "status_label": lambda code: _(STATUS_LABELS[code]) if code in STATUS_LABELS else code,
        "reason_words": lambda code: _(reason_text(code)) if code else "",
    }


def _filters(request: Request, _: Any) -> tuple[dict[str, str | None], MessageFilter, list[str]]:
    """(the filters as typed, the store filter, what is wrong with them in words)."""
    params = request.query_params
    given: dict[str, str | None] = {
        name: (params[name].strip()[:320] if name in params else None)
        for name in ("playbook", "status", "reason", "customer", "email", *TIME_FIELDS)
    }
    for name in given:  # an empty box means "any"
        given[name] = given[name] or None
    problems: list[str] = []
    status = given["status"]
    if status is not None and status not in STATUSES:
        problems.append(_("%(field)s: unknown value", field=_("Status")))
        status = None
    customer_id = None
    if given["customer"] is not None:
        text = given["customer"]
        if text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_ID:
            customer_id = int(text)
        else:
            problems.append(_("%(field)s: not a customer id", field=_("Customer id")))
    moments = {name: _moment(given[name], name.endswith("_to")) for name in TIME_FIELDS}
    labels = {
        "due_from": _("Due from"),
        "due_to": _("Due until"),
        "sent_from": _("Sent from"),
        "sent_to": _("Sent until"),
    }
    for name, value in moments.items():
        if value is False:
            problems.append(_("%(field)s: not a date (YYYY-MM-DD)", field=labels[name]))
    for low, high in (("due_from", "due_to"), ("sent_from", "sent_to")):
        if moments[low] and moments[high] and moments[low] > moments[high]:
            problems.append(
                _("%(first)s is after %(second)s", first=labels[low], second=labels[high])
            )
    wanted = MessageFilter(
        playbook=given["playbook"],
        status=status,
        reason=message_list.NO_REASON if given["reason"] == NONE else given["reason"],
        customer_id=customer_id,
        email=given["email"],
        **{name: value or None for name, value in moments.items()},
    )
    return given, wanted, problems


def _moment(text: str | None, end_of_day: bool) -> datetime | None | bool:
    """A day (its start, or its end for an "until" box) or an ISO timestamp, UTC; False
    when it is neither."""
    if text is None:
        return None
    try:
        if len(text) == 10:
            start = datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
            return start + timedelta(days=1, microseconds=-1) if end_of_day else start
        moment = datetime.fromisoformat(text)
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        return False
