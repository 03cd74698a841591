"""Erasure over HTTP: `POST /api/v1/customers/{id}/erase` for API keys and the dashboard's
erase button on the customer page; admin only, recorded in the audit trail with who and
from where. Erasure is database work: it runs in the thread pool, never on the event loop."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from relmark import erasing
from relmark.accounts import Principal, Role
from relmark.interfaces.web.auth import actor_of, require
from relmark.interfaces.web.bounds import CustomerIdPath
from relmark.interfaces.web.problems import documented
from relmark.store.models import Customer

router = APIRouter()
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
CustomerId = CustomerIdPath
DEFAULT_REASON = "request of the data subject"


class EraseIn(BaseModel):
    reason: str = Field(DEFAULT_REASON, max_length=500, description="Name no personal data.")


class EraseOut(BaseModel):
    customer_id: int
    profiles: list[int] = Field(description="The live profile and every one merged into it.")
    same_contact_elsewhere: list[int] = Field(
        description="Other customers with the same e-mail or phone, never merged with this "
        "one and not erased: erase them too if they are the same person."
    )
    counts: dict[str, int] = Field(description="Rows changed per table; files cleaned.")


def _erase(request: Request, who: Principal, customer_id: int, reason: str) -> dict[str, Any]:
    engine = request.app.state.engine
    with engine.connect() as connection:
        exists = connection.execute(select(Customer.id).where(Customer.id == customer_id)).first()
    if exists is None:
        raise HTTPException(404, f"no customer with id {customer_id}")
    done = erasing.erase(
        engine, customer_id, actor=actor_of(request, who), reason=reason, now=datetime.now(UTC)
    )
    listed = ("customer_id", "profiles", "same_contact_elsewhere")
    return {
        **{k: done[k] for k in listed},
        "counts": {k: v for k, v in done.items() if k not in listed},
    }


@router.post(
    "/api/v1/customers/{customer_id}/erase",
    tags=["api"],
    response_model=EraseOut,
    responses=documented(404, 422),
)
async def erase_customer(
    request: Request,
    who: Admin,
    customer_id: CustomerId,
    body: Annotated[EraseIn | None, Body()] = None,
) -> dict[str, Any]:
    """Erase the customer's personal data in every table, and of every profile merged into
    theirs; orders and amounts stay. Their e-mail and phone are suppressed (salted hashes):
    a later import or tracking call brings them back restricted."""
    reason = body.reason if body else DEFAULT_REASON
    return await run_in_threadpool(_erase, request, who, customer_id, reason)


@router.post("/customers/{customer_id}/erase", include_in_schema=False)
async def erase_from_dashboard(
    request: Request, who: Admin, customer_id: CustomerId
) -> RedirectResponse:
    """The customer page's button: the form must say it is confirmed (and carry the CSRF
    token, checked by `require`)."""
    form = await request.form()
    if form.get("confirm") != "yes":
        raise HTTPException(400, "tick the confirmation to erase")
    reason = str(form.get("reason") or "").strip()[:500] or DEFAULT_REASON
    done = await run_in_threadpool(_erase, request, who, customer_id, reason)
    return RedirectResponse(f"/customers/{done['customer_id']}", status_code=303)
