"""`GET /api/v1/gifts` (the pick list) and `POST /api/v1/gifts/{code}/fulfil` (the gift
went with an order), for a warehouse system; the same seam as `relmark gifts`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, Field

from relmark import gift_picking
from relmark.accounts import Principal, Role
from relmark.interfaces.web.auth import actor_of, require
from relmark.interfaces.web.bounds import PageNumber, PerPage
from relmark.interfaces.web.problems import documented
from relmark.store.gifts import UnknownCode

router = APIRouter(prefix="/api/v1", tags=["api"])
Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Editor = Annotated[Principal, Depends(require(Role.MARKETER))]
Code = Annotated[str, Path(min_length=1, max_length=40, description="The gift offer's code.")]


class GiftItem(BaseModel):
    code: str
    gift: str | None = Field(description="The gift catalogue's key.")
    gift_name: str = Field(description="The gift's name in the asked language.")
    issued_at: datetime | None = Field(description="Owed since.")
    expires_at: datetime | None
    customer_id: int
    first_name: str | None
    last_name: str | None
    address: str | None
    postcode: str | None
    city: str | None
    region: str | None
    country: str | None
    language: str | None
    due: bool = Field(description="The customer ordered after the gift was promised.")
    next_order_id: int | None = Field(description="relmark's id of that order.")
    next_order: str | None = Field(description="The shop's number of that order.")
    next_order_at: datetime | None


class ShelfItem(BaseModel):
    gift: str
    name: str
    in_catalogue: bool
    cost_minor: int | None
    currency: str | None
    stock: int | None
    owed: int = Field(description="Issued and not yet fulfilled.")


class GiftPage(BaseModel):
    total: int
    page: int
    per_page: int
    items: list[GiftItem]
    shelf: list[ShelfItem]


class Fulfilment(BaseModel):
    order: str = Field(
        min_length=1, max_length=200, description="The order that carried it (number or id)."
    )


class Fulfilled(BaseModel):
    code: str
    order_id: int
    fulfilled_at: datetime


@router.get("/gifts", response_model=GiftPage, responses=documented(422))
def gifts(
    request: Request,
    who: Viewer,
    due: Annotated[bool, Query(description="Only gifts with an order to travel with.")] = False,
    language: Annotated[str, Query(pattern="^(en|ms|kk|tl|uk|sl)$")] = "en",
    page: PageNumber = 1,
    per_page: PerPage = 50,
) -> dict[str, Any]:
    """Gifts promised and not yet sent, owed longest first, with the customer's name and
    address, the gift, and the next order placed after it."""
    listed = gift_picking.pick_list(
        request.app.state.engine,
        request.app.state.settings,
        due_only=due,
        language=language,
        limit=per_page,
        offset=(page - 1) * per_page,
    )
    return {
        "total": listed.total,
        "page": page,
        "per_page": per_page,
        "items": listed.rows,
        "shelf": listed.shelf,
    }


@router.post("/gifts/{code}/fulfil", response_model=Fulfilled, responses=documented(404, 422))
def fulfil(request: Request, who: Editor, code: Code, body: Fulfilment) -> Any:
    """Mark the gift sent with an order: it leaves the pick list, counts as a cost, and the
    act is in the audit trail."""
    try:
        done = gift_picking.fulfil(
            request.app.state.engine, code, body.order, datetime.now(UTC), actor_of(request, who)
        )
    except UnknownCode as exc:
        raise HTTPException(404, exc.problems[0].message) from None
    return jsonable_encoder(done)
