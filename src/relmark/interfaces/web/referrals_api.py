"""`GET /api/v1/referrals` and `GET /api/v1/ambassadors`: who referred whom with each
verdict, and referrers ranked by the value of the customers they brought.

The same store queries as `relmark referrals list|ambassadors` (store/referral_report.py);
routes are plain `def`, so FastAPI runs their database work off the event loop.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from relmark.accounts import Principal, Role
from relmark.interfaces.web.auth import require
from relmark.interfaces.web.bounds import CustomerIdQuery, PageNumber, PerPage
from relmark.interfaces.web.problems import documented
from relmark.store import referral_report

router = APIRouter(prefix="/api/v1", tags=["api"])
Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]


class ReferralItem(BaseModel):
    id: int
    code: str = Field(description="The referrer's referral code the order carried.")
    referrer_id: int = Field(description="The referrer's live profile (merges followed).")
    referrer_first_name: str | None
    referrer_last_name: str | None
    referee_id: int = Field(description="The referred customer's live profile.")
    referee_first_name: str | None
    referee_last_name: str | None
    order_number: str = Field(description="The shop's id of the referee's first order.")
    ordered_at: datetime
    amount_minor: int
    currency: str
    via: str = Field(description="coupon, link (a ?ref= the tracking endpoint saw) or import.")
    status: str = Field(description="pending, rewarded or rejected.")
    reason: str | None = Field(description="Why it was rejected, e.g. self_referral.")
    referee_percent: float | None = Field(description="Percent the referee was promised.")
    referee_discount_minor: int | None = Field(description="The discount on that order.")
    reward_code: str | None = Field(description="The referrer's reward offer code, if issued.")
    created_at: datetime
    decided_at: datetime | None


class ReferralPage(BaseModel):
    total: int
    page: int
    per_page: int
    items: list[ReferralItem]


class Ambassador(BaseModel):
    referrer_id: int
    first_name: str | None
    last_name: str | None
    customers: int = Field(description="Customers they brought (referrals not rejected).")
    value_minor: int = Field(description="Those customers' value, in `currency` minor units.")
    basis: str = Field(description="clv (latest scoring run), revenue, or clv+revenue.")
    pending: int
    rewarded: int
    rejected: int


class Ambassadors(BaseModel):
    run_id: int | None = Field(description="The scoring run the lifetime values come from.")
    currency: str
    items: list[Ambassador]


@router.get("/referrals", response_model=ReferralPage, responses=documented(422))
def referrals(
    request: Request,
    who: Viewer,
    status: Literal["pending", "rewarded", "rejected"] | None = None,
    customer_id: CustomerIdQuery = None,
    page: PageNumber = 1,
    per_page: PerPage = 50,
) -> dict[str, Any]:
    """Referrals newest first; `customer_id` matches the person on either side."""
    with request.app.state.engine.connect() as connection:
        total, rows = referral_report.list_referrals(
            connection,
            status=status,
            customer_id=customer_id,
            limit=per_page,
            offset=(page - 1) * per_page,
        )
    return {"total": total, "page": page, "per_page": per_page, "items": rows}


@router.get("/ambassadors", response_model=Ambassadors, responses=documented(422))
def ambassadors(
    request: Request,
    who: Viewer,
    limit: Annotated[int, Query(ge=1, le=500, description="At most this many referrers.")] = 50,
) -> dict[str, Any]:
    """Referrers ranked by the value of the customers they brought."""
    currency = request.app.state.settings.currency
    with request.app.state.engine.connect() as connection:
        return referral_report.ambassadors(connection, currency, limit=limit)
