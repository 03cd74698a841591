"""Data rights over HTTP: a customer's export (access) and correction (rectification) in the
API and the dashboard, and the audit trail's page for admins.

Every act goes through `relmark.interfaces.data_rights`, the same seam as the CLI, and is
recorded in the audit trail with the user or key and the client's address.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from relmark.accounts import Principal, Role
from relmark.errors import InvalidInput, RelmarkError
from relmark.interfaces import data_rights
from relmark.interfaces.web.auth import actor_of, require
from relmark.interfaces.web.bounds import CustomerIdPath
from relmark.interfaces.web.problems import documented
from relmark.store import rectification
from relmark.store.audit import entries

router = APIRouter()
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
Marketer = Annotated[Principal, Depends(require(Role.MARKETER))]
CustomerId = CustomerIdPath
#: Dashboard labels of the fields a customer may have corrected, in form order.
FIELD_LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "E-mail",
    "phone": "Phone",
    "language": "Language",
    "country": "Country",
    "region": "Region",
    "city": "City",
    "postcode": "Postcode",
    "address": "Address",
    "timezone": "Time zone",
    "birthday": "Birthday",
}


class Rectification(BaseModel):
    """Corrected values; a field sent as null or "" is cleared, a field left out kept."""

    model_config = ConfigDict(extra="forbid")

    first_name: str | None = Field(None, max_length=200)
    last_name: str | None = Field(None, max_length=200)
    email: str | None = Field(None, max_length=320)
    phone: str | None = Field(None, max_length=64)
    language: str | None = Field(None, max_length=35)
    country: str | None = Field(None, max_length=60)
    region: str | None = Field(None, max_length=200)
    city: str | None = Field(None, max_length=200)
    postcode: str | None = Field(None, max_length=32)
    address: str | None = Field(None, max_length=1000)
    timezone: str | None = Field(None, max_length=64)
    birthday: str | None = Field(None, max_length=10, description="YYYY-MM-DD")


def _not_found(customer_id: int) -> HTTPException:
    return HTTPException(404, f"no customer with id {customer_id}")


def _live(request: Request, customer_id: int) -> int:
    """The profile holding the person now (a merged id leads to its survivor)."""
    with request.app.state.engine.connect() as connection:
        try:
            return data_rights.resolve(connection, str(customer_id))
        except RelmarkError:
            raise _not_found(customer_id) from None


@router.get(
    "/api/v1/customers/{customer_id}/export",
    tags=["api"],
    response_class=Response,
    responses={
        200: {"content": {"application/zip": {}}, "description": "The archive."},
        **documented(404, 422),
    },
)
def export_customer(request: Request, who: Admin, customer_id: CustomerId) -> Response:
    """Everything relmark holds about the person (every profile merged into theirs): a zip
    of data.json, one CSV per section and a README in their language. Admin only; the export
    is recorded in the audit trail."""
    try:
        live, content = data_rights.export(
            request.app.state.engine,
            customer_id,
            actor_of(request, who),
            shop=request.app.state.settings.shop_name,
            now=datetime.now(UTC),
        )
    except RelmarkError:
        raise _not_found(customer_id) from None
    return Response(
        content,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="customer-{live}.zip"',
            "Cache-Control": "no-store",
        },
    )


@router.patch("/api/v1/customers/{customer_id}", tags=["api"], responses=documented(404, 422))
def rectify_customer(
    request: Request, who: Marketer, customer_id: CustomerId, body: Rectification
) -> dict[str, Any]:
    """Correct the profile: values are checked as an import checks them (422 with the
    problems otherwise), win over every source's value in later imports, and are logged as a
    customer event and in the audit trail (field names only)."""
    changes = {k: v or "" for k, v in body.model_dump(exclude_unset=True).items()}
    if not changes:
        raise InvalidInput.single("body", "send at least one field to correct")
    try:
        live, changed = data_rights.rectify(
            request.app.state.engine, customer_id, changes, actor_of(request, who), _now()
        )
    except InvalidInput:
        raise
    except RelmarkError:
        raise _not_found(customer_id) from None
    return {
        "customer_id": live,
        "changed": changed,
        "profile": jsonable_encoder(_fields(request, live)),
    }


def _now() -> datetime:
    return datetime.now(UTC)


def _fields(request: Request, customer_id: int) -> dict[str, Any]:
    from sqlalchemy import select

    from relmark.store.models import Customer

    with request.app.state.engine.connect() as connection:
        row = (
            connection.execute(
                select(*(Customer.__table__.c[f] for f in rectification.FIELDS)).where(
                    Customer.id == customer_id
                )
            )
            .mappings()
            .first()
        )
    if row is None:
        raise HTTPException(404, f"no customer with id {customer_id}")
    return dict(row)


# --- dashboard ---------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else str(value)


@router.get("/customers/{customer_id}/edit", response_class=HTMLResponse, include_in_schema=False)
async def edit_page(request: Request, customer_id: CustomerId) -> Response:
    from relmark.interfaces.web.pages import render, signed_in

    who = await signed_in(request, Role.MARKETER)
    live = _live(request, customer_id)
    if live != customer_id:
        return RedirectResponse(f"/customers/{live}/edit", status_code=303)
    values = {k: _text(v) for k, v in _fields(request, customer_id).items()}
    return render(
        request,
        who,
        "customer_edit.html",
        customer_id=customer_id,
        values=values,
        labels=FIELD_LABELS,
        problems=None,
    )


@router.post("/customers/{customer_id}/edit", response_class=HTMLResponse, include_in_schema=False)
async def edit_save(request: Request, customer_id: CustomerId) -> Response:
    """Only the fields whose text the user changed are corrected (and validated)."""
    from relmark.interfaces.web.pages import render, signed_in

    who = await signed_in(request, Role.MARKETER)
    customer_id = _live(request, customer_id)
    form = await request.form()
    current = {k: _text(v) for k, v in _fields(request, customer_id).items()}
    sent = {k: str(form.get(k, "")).strip()[:1000] for k in FIELD_LABELS}
    changes = {k: v for k, v in sent.items() if v != current[k]}
    if changes:
        try:
            data_rights.rectify(
                request.app.state.engine, customer_id, changes, actor_of(request, who), _now()
            )
        except InvalidInput as exc:
            problems = [p.message + (f" ({p.column})" if p.column else "") for p in exc.problems]
            return render(
                request,
                who,
                "customer_edit.html",
                customer_id=customer_id,
                values={**current, **sent},
                labels=FIELD_LABELS,
                problems=problems,
            )
    return RedirectResponse(f"/customers/{customer_id}", status_code=303)


@router.get("/audit", response_class=HTMLResponse, include_in_schema=False)
async def audit_page(request: Request) -> Response:
    """The audit trail, newest first, for admins; filter by customer and day."""
    from relmark.interfaces.web.pages import render, signed_in

    who = await signed_in(request, Role.ADMIN)
    raw_customer = (request.query_params.get("customer") or "").strip()[:320]
    raw_since = (request.query_params.get("since") or "").strip()[:10]
    problems: list[str] = []
    since = None
    if raw_since:
        try:
            day = date.fromisoformat(raw_since)
            since = datetime(day.year, day.month, day.day, tzinfo=UTC)
        except ValueError:
            problems.append(f"{raw_since!r}: YYYY-MM-DD")
    rows: list[dict[str, Any]] = []
    with request.app.state.engine.connect() as connection:
        customer_id = None
        if raw_customer:
            try:
                customer_id = data_rights.resolve(connection, raw_customer)
            except RelmarkError as exc:
                problems.append(str(exc))
        if not problems:
            rows = entries(connection, customer_id=customer_id, since=since, limit=500)
    return render(
        request,
        who,
        "audit.html",
        rows=rows,
        customer=raw_customer,
        since=raw_since,
        problems=problems,
    )
