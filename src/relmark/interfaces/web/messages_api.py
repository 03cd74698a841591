"""`GET /api/v1/messages`: the outbox as a list, filtered and paged, for other systems.

The same filters as `relmark outbox --list` and the dashboard's drill-down, through the
same store query (store/message_list.py). Every bound is declared, so a wild value is a
422 problem, never a driver error.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from relmark.accounts import Principal, Role
from relmark.errors import InvalidInput
from relmark.interfaces.web.auth import require
from relmark.interfaces.web.bounds import CustomerIdQuery, PageNumber, PerPage, ShortText
from relmark.interfaces.web.problems import documented
from relmark.store import message_list
from relmark.store.message_list import MessageFilter

router = APIRouter(prefix="/api/v1", tags=["api"])
Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Moment = Annotated[
    datetime | None,
    Query(description="ISO 8601 timestamp; without an offset it is read as UTC. Inclusive."),
]


class MessageItem(BaseModel):
    id: int
    customer_id: int
    customer_name: str | None = Field(description="First and last name; null once erased.")
    email: str | None = Field(description="The customer's e-mail address; null once erased.")
    playbook: str
    occasion: str
    channel: str
    purpose: str
    status: str = Field(description="planned, sending, sent, held or failed.")
    reason: str | None = Field(description="Machine-readable reason code (held or deferred).")
    reason_text: str | None = Field(description="The reason in plain English.")
    detail: Any = Field(description="The figures behind the reason (JSON), if any.")
    due_at: datetime
    sent_at: datetime | None
    attempts: int = Field(description="Delivery attempts so far.")
    last_error: str | None = Field(description="The last delivery error, if any.")


class MessagePage(BaseModel):
    total: int = Field(description="Messages matching the filters, on every page.")
    page: int
    per_page: int
    items: list[MessageItem]


def _utc(value: datetime | None, name: str) -> datetime | None:
    """An aware UTC moment; a naive one is read as UTC, one out of range is a clear 422."""
    if value is None:
        return None
    try:
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:
        raise InvalidInput.single(name, f"{value.isoformat()} is out of range") from None


@router.get("/messages", response_model=MessagePage, responses=documented(422))
async def messages(
    request: Request,
    who: Viewer,
    customer_id: CustomerIdQuery = None,
    email: Annotated[
        str | None, Query(max_length=320, description="The customer's e-mail (any case).")
    ] = None,
    playbook: ShortText = None,
    status: Literal["planned", "sending", "sent", "held", "failed"] | None = None,
    reason: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Reason code, e.g. cap_7d or expired; empty for messages without one.",
        ),
    ] = None,
    expired: Annotated[
        bool, Query(description="Only occasions lost to downtime (held, reason expired).")
    ] = False,
    due_from: Moment = None,
    due_to: Moment = None,
    sent_from: Moment = None,
    sent_to: Moment = None,
    page: PageNumber = 1,
    per_page: PerPage = 50,
) -> dict[str, Any]:
    """Outbox messages, newest due first: the customer (id, name, e-mail), playbook, status,
    reason (code and plain words), due and sent times, attempts and the last error."""
    if expired:
        status, reason = message_list.expired_shorthand(status, reason, "expired")
    wanted = MessageFilter(
        playbook=playbook,
        status=status,
        reason=reason,
        customer_id=customer_id,
        email=email,
        due_from=_utc(due_from, "due_from"),
        due_to=_utc(due_to, "due_to"),
        sent_from=_utc(sent_from, "sent_from"),
        sent_to=_utc(sent_to, "sent_to"),
    ).checked("query")

    def read() -> tuple[int, list[dict[str, Any]]]:
        with request.app.state.engine.connect() as connection:
            return message_list.list_messages(
                connection, wanted, limit=per_page, offset=(page - 1) * per_page
            )

    total, rows = await run_in_threadpool(read)  # a large outbox: off the event loop
    return {"total": total, "page": page, "per_page": per_page, "items": rows}
