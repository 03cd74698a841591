"""The loyalty programme for other systems: a member's card, a manual grant, and the
liability report for finance.

`GET /api/v1/customers/{id}/loyalty` (viewer), `POST /api/v1/customers/{id}/loyalty/grant`
(marketer; audited with who and from where) and `GET /api/v1/loyalty/liability` (analyst).
The routes are sync: the ledger's queries run in the thread pool, never on the event loop.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, Field
from sqlalchemy import select

from relmark.accounts import Principal, Role
from relmark.interfaces.web.auth import actor_of, require
from relmark.interfaces.web.bounds import CustomerIdPath
from relmark.interfaces.web.problems import documented
from relmark.store.loyalty_ledger import NotEnoughPoints
from relmark.store.models import Customer

router = APIRouter(prefix="/api/v1", tags=["api"])
Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Analyst = Annotated[Principal, Depends(require(Role.ANALYST))]
Editor = Annotated[Principal, Depends(require(Role.MARKETER))]


class Grant(BaseModel):
    points: int = Field(
        ge=-10_000_000, le=10_000_000, description="Points to add; negative takes them away."
    )
    reason: str = Field(min_length=1, max_length=500, description="Why (kept on the entry).")


def _programme(request: Request) -> Any:
    from relmark.interact.loyalty import load_programme

    return load_programme(request.app.state.settings.loyalty_file)


def _known(request: Request, customer_id: int) -> None:
    with request.app.state.engine.connect() as connection:
        found = connection.execute(select(Customer.id).where(Customer.id == customer_id)).first()
    if found is None:
        raise HTTPException(404, f"no customer with id {customer_id}")


@router.get("/customers/{customer_id}/loyalty", responses=documented(404, 422))
def customer_loyalty(request: Request, who: Viewer, customer_id: CustomerIdPath) -> Any:
    """The member's balance (and its value), tier and latest 20 ledger entries."""
    from relmark.interact.loyalty import member_card

    _known(request, customer_id)
    card = member_card(request.app.state.engine, _programme(request), customer_id)
    return jsonable_encoder(card)


@router.post("/customers/{customer_id}/loyalty/grant", responses=documented(404, 409, 422))
def grant_points(request: Request, who: Editor, customer_id: CustomerIdPath, body: Grant) -> Any:
    """Grant points by hand (or take them back): one ledger entry with the reason, and an
    audit entry naming who did it. 409 when taking more than the balance."""
    from relmark.interact.loyalty import grant

    _known(request, customer_id)
    try:
        done = grant(
            request.app.state.engine,
            _programme(request),
            customer_id,
            body.points,
            body.reason,
            datetime.now(UTC),
            actor_of(request, who),
        )
    except NotEnoughPoints as exc:
        raise HTTPException(409, str(exc)) from None
    return jsonable_encoder(done)


@router.get("/loyalty/liability", responses=documented(422))
def loyalty_liability(request: Request, who: Analyst) -> Any:
    """Outstanding points, their value and expected breakage, by month of expiry."""
    from relmark.interact.loyalty import liability_report

    report = liability_report(request.app.state.engine, _programme(request), datetime.now(UTC))
    return jsonable_encoder(report)
