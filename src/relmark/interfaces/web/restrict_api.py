"""Restriction of processing from the API and the dashboard (GDPR art. 18).

`POST /api/v1/customers/{id}/restrict` with `{"restricted": true|false, "reason": …}` and
the dashboard's button on the customer page both call `Interaction.restrict`: every unsent
message is held, and the act is written to the customer's timeline and the audit trail
with who did it and from where. Marketers (the dashboard's editors) and admins may do it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from relmark.accounts import Principal, Role
from relmark.errors import InvalidInput
from relmark.interfaces.web.auth import actor_of, require
from relmark.interfaces.web.bounds import CustomerIdPath
from relmark.interfaces.web.pages import signed_in
from relmark.interfaces.web.problems import documented
from relmark.interfaces.web.state import interaction
from relmark.store.models import Customer

router = APIRouter()
Editor = Annotated[Principal, Depends(require(Role.MARKETER))]
MAX_ID = 2**63 - 1


class RestrictionChange(BaseModel):
    restricted: bool = Field(description="true restricts processing, false lifts it.")
    reason: str | None = Field(
        default=None,
        max_length=500,
        description="Why: the customer's request, a contested record, an objection…",
    )


class RestrictionState(BaseModel):
    customer_id: int
    restricted: bool
    restricted_at: datetime | None
    reason: str | None
    messages_held: int


def _change(
    request: Request, who: Principal, customer_id: int, restricted: bool, reason: str | None
) -> dict[str, Any]:
    if not 1 <= customer_id <= MAX_ID:
        raise HTTPException(404, f"no customer with id {customer_id}")
    with request.app.state.engine.connect() as connection:
        found = connection.execute(select(Customer.id).where(Customer.id == customer_id)).first()
    if found is None:
        raise HTTPException(404, f"no customer with id {customer_id}")
    try:
        return interaction(request).restrict(
            customer_id,
            restricted,
            datetime.now(UTC),
            actor=actor_of(request, who),
            reason=reason,
        )
    except InvalidInput as exc:  # merged into another profile: that id is the one to use
        raise HTTPException(409, exc.problems[0].message) from None


@router.post(
    "/api/v1/customers/{customer_id}/restrict",
    tags=["api"],
    response_model=RestrictionState,
    responses=documented(404, 409, 422),
)
def restrict_customer(
    request: Request, who: Editor, customer_id: CustomerIdPath, change: RestrictionChange
) -> dict[str, Any]:
    """Restrict processing of a customer, or lift the restriction. While restricted the
    customer is stored only: not scored, sent nothing, in no export or webhook."""
    result = _change(request, who, customer_id, change.restricted, change.reason)
    return jsonable_encoder(result)  # type: ignore[no-any-return]


@router.post("/customers/{customer_id}/restrict", include_in_schema=False)
async def restrict_from_dashboard(request: Request, customer_id: CustomerIdPath) -> Response:
    """The customer page's button (a form with the session's CSRF token)."""
    who = await signed_in(request, Role.MARKETER)
    form = await request.form()
    reason = str(form.get("reason") or "")[:500] or None
    await run_in_threadpool(
        _change, request, who, customer_id, form.get("restricted") == "1", reason
    )
    return RedirectResponse(f"/customers/{customer_id}", status_code=303)
