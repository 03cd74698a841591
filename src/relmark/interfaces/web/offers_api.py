"""Offers for other systems: `GET /api/v1/offers` (and one by code) to look them up,
`POST /api/v1/offers/{code}/redeem` for a shop's checkout to use one for an order.

A refusal is a 409 problem (404 for an unknown code) whose `reason` says which rule said no
(store/offer_redemption.py's Refusal), so a checkout can tell the customer why.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field, model_validator

from relmark.accounts import Principal, Role
from relmark.interfaces.web.auth import actor_of, require
from relmark.interfaces.web.bounds import MAX_ID, CustomerIdQuery, PageNumber, PerPage
from relmark.interfaces.web.problems import documented, problem
from relmark.store import offer_redemption, offers
from relmark.store.live import absorbed_into, live_profile
from relmark.store.offer_models import OfferStatus

router = APIRouter(prefix="/api/v1", tags=["api"])
Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Editor = Annotated[Principal, Depends(require(Role.MARKETER))]
Code = Annotated[str, Path(min_length=1, max_length=60, description="The offer's code.")]


class OfferItem(BaseModel):
    code: str
    kind: str = Field(description="discount, gift, referral_reward or points_reward.")
    status: str = Field(description="reserved, issued, redeemed, expired or void.")
    customer_id: int
    playbook: str | None
    message_id: int | None
    value: str | None = Field(description="What it is worth: a percentage, amount or gift.")
    percent_off: float | None
    amount_minor: int | None
    currency: str | None
    gift: str | None
    min_order_minor: int | None
    uses: int
    max_uses: int
    created_at: datetime
    issued_at: datetime | None
    expires_at: datetime | None
    closed_at: datetime | None
    close_reason: str | None


class OfferPage(BaseModel):
    total: int
    page: int
    per_page: int
    items: list[OfferItem]


class RedeemRequest(BaseModel):
    """The order that uses the code: relmark's id, or the shop's order number (with its
    source when two sources share numbers)."""

    order_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    order: str | None = Field(default=None, min_length=1, max_length=200)
    source: str | None = Field(default=None, min_length=1, max_length=100)

    @model_validator(mode="after")
    def _one_order(self) -> RedeemRequest:
        if (self.order_id is None) == (self.order is None):
            raise ValueError("name the order by order_id or by order (its number), one of them")
        return self


class Redemption(BaseModel):
    code: str
    offer_id: int
    order_id: int
    customer_id: int
    playbook: str | None
    uses: int
    max_uses: int
    status: str
    discount_minor: int | None
    redeemed_at: datetime


@router.get("/offers", response_model=OfferPage, responses=documented(422))
def list_offers(
    request: Request,
    who: Viewer,
    status: Annotated[OfferStatus | None, Query()] = None,
    customer_id: CustomerIdQuery = None,
    page: PageNumber = 1,
    per_page: PerPage = 50,
) -> dict[str, Any]:
    """Offers newest first; a customer's include those of profiles merged into them."""
    with request.app.state.engine.connect() as connection:
        ids = None
        if customer_id is not None:
            ids = absorbed_into(connection, live_profile(connection, customer_id) or customer_id)
        total, rows = offers.list_offers(
            connection,
            status=status.value if status else None,
            customer_ids=ids,
            limit=per_page,
            offset=(page - 1) * per_page,
        )
    items = [offers.summary(r) for r in rows]
    return {"total": total, "page": page, "per_page": per_page, "items": items}


@router.get("/offers/{code}", response_model=OfferItem, responses=documented(404, 422))
def one_offer(request: Request, who: Viewer, code: Code) -> Any:
    """One offer by its code (as typed: any case, with or without its dash)."""
    with request.app.state.engine.connect() as connection:
        try:
            return offers.summary(offers.find(connection, code))
        except offers.OfferNotFound as exc:
            return problem(404, "Not found", str(exc), reason="unknown")


@router.post(
    "/offers/{code}/redeem", response_model=Redemption, responses=documented(404, 409, 422)
)
def redeem(request: Request, who: Editor, code: Code, body: RedeemRequest) -> Any:
    """Use the code for an order. Refused (409, nothing changed) when it is not yet sent,
    expired, void, used up, another customer's, in another currency or the order is below
    its minimum; `reason` in the problem says which."""
    now = datetime.now(UTC)
    with request.app.state.engine.begin() as connection:
        target = offer_redemption.order_id_of(
            connection,
            order_id=body.order_id,
            external_id=body.order,
            source=body.source,
            where="order",
        )
        try:
            return offer_redemption.redeem(
                connection, code, target, now, actor=actor_of(request, who)
            )
        except offer_redemption.OfferRefused as refused:
            unknown = refused.reason is offer_redemption.Refusal.UNKNOWN
            return problem(
                404 if unknown else 409,
                "Not found" if unknown else "Offer refused",
                refused.message,
                reason=refused.reason.value,
                code=refused.code,
            )
