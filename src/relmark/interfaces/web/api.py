"""The REST API under /api/v1: parse, call the stage, shape the response. Nothing more."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from sqlalchemy import select

from relmark import pipeline
from relmark.accounts import Principal, Role
from relmark.enums import ImportKind
from relmark.ingest.importer import ImportOptions
from relmark.interfaces.web import uploads
from relmark.interfaces.web.auth import actor_of, require
from relmark.interfaces.web.bounds import (
    CustomerIdPath,
    MinorUnits,
    Name,
    PageNumber,
    PerPage,
    ShortText,
)
from relmark.interfaces.web.pages import search_with_cached_total
from relmark.interfaces.web.problems import documented
from relmark.interfaces.web.state import interaction
from relmark.interfaces.web.upload_reply import paths_hidden, public_report
from relmark.store import audit, outbox
from relmark.store import customers as customer_store
from relmark.store.models import ScoreRun

router = APIRouter(prefix="/api/v1", tags=["api"])
Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Analyst = Annotated[Principal, Depends(require(Role.ANALYST))]
Marketer = Annotated[Principal, Depends(require(Role.MARKETER))]


VALUE_FIELDS = (
    "p_alive: the probability that the customer has not stopped buying for good (null when the "
    "scoring run could not compute it; p_alive_reason says why). clv_minor: lifetime value, the "
    "discounted gross margin of the purchases expected over the run's horizon (12 months by "
    "default) at its margin rate, in minor units (null with clv_reason when not computed); "
    "clv_p10_minor/clv_p90_minor: its 80% interval from the uncertainty of the model's "
    "parameters. The run's value_horizon_months and value_margin_rate say which."
)


def _with_reasons(rows: list[dict[str, Any]], run: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Every empty model value gets the scoring run's reason beside it."""
    run = run or {}
    return [
        {
            **row,
            "p_alive_reason": run.get("p_alive_reason") if row.get("p_alive") is None else None,
            "clv_reason": run.get("clv_reason") if row.get("clv_minor") is None else None,
        }
        for row in rows
    ]


@router.get("/customers", description=VALUE_FIELDS, responses=documented(422))
def list_customers(
    request: Request,
    who: Viewer,
    q: Annotated[str | None, Query(max_length=200, description="Name, e-mail or phone.")] = None,
    segment: ShortText = None,
    min_clv: MinorUnits = None,
    max_clv: MinorUnits = None,
    min_p_alive: Annotated[float | None, Query(ge=0, le=1)] = None,
    max_p_alive: Annotated[float | None, Query(ge=0, le=1)] = None,
    sort: Literal["clv", "p_alive", "revenue", "profit", "id", "name"] = "clv",
    order: Literal["asc", "desc"] = "desc",
    page: PageNumber = 1,
    per_page: PerPage = 50,
    include_restricted: Annotated[
        bool,
        Query(
            description="Also list customers who restricted processing (GDPR art. 18); "
            "left out by default, since a list read by another system is a transfer."
        ),
    ] = False,
) -> dict[str, Any]:
    """Customers of the latest score run, filtered, sorted and paginated; `restricted`
    marks each customer whose processing is restricted (never scored)."""
    filters = {
        "restricted": None if include_restricted else False,
        "q": q,
        "segment": segment,
        "min_clv_minor": min_clv,
        "max_clv_minor": max_clv,
        "min_p_alive": min_p_alive,
        "max_p_alive": max_p_alive,
    }
    total, rows = search_with_cached_total(
        request,
        filters,
        sort=sort,
        descending=order == "desc",
        limit=per_page,
        offset=(page - 1) * per_page,
    )
    with request.app.state.engine.connect() as connection:
        run = customer_store.run_summary(connection, customer_store.latest_run(connection))
    items = _with_reasons(rows, run)
    return {"total": total, "page": page, "per_page": per_page, "items": jsonable_encoder(items)}


@router.get("/customers/{customer_id}", description=VALUE_FIELDS, responses=documented(404, 422))
def customer_360(request: Request, who: Viewer, customer_id: CustomerIdPath) -> dict[str, Any]:
    """Profile, identities, orders, scores with explanation (and the reason beside any empty
    model value), consents, messages with held reasons, events and merges."""
    with request.app.state.engine.begin() as connection:
        found = customer_store.profile(connection, customer_id)
        if found is not None:  # a 360 view reads personal data: the trail says who did
            audit.record(
                connection, actor_of(request, who), "customer.view", customer_id=customer_id
            )
    if found is None:
        raise HTTPException(404, f"no customer with id {customer_id}")
    if found["score"] is not None:
        found["score"] = _with_reasons([found["score"]], found["score_run"])[0]
    return jsonable_encoder(found)


@router.get("/segments")
def segments(request: Request, who: Viewer) -> list[dict[str, Any]]:
    def compute() -> list[dict[str, Any]]:
        with request.app.state.engine.connect() as connection:
            return customer_store.segment_sizes(connection)

    return request.app.state.figures.get("segments", compute)


@router.get("/score-runs")
def score_runs(request: Request, who: Viewer) -> list[dict[str, Any]]:
    """Every scoring run, newest first: its model, how it was chosen (`selection`: criterion
    and every candidate's figures or failure) and why values are empty, where they are."""
    with request.app.state.engine.connect() as connection:
        rows = connection.execute(
            select(
                ScoreRun.id,
                ScoreRun.as_of,
                ScoreRun.created_at,
                ScoreRun.model,
                ScoreRun.params,
                ScoreRun.n_customers,
                ScoreRun.currency,
                ScoreRun.selection,
                ScoreRun.p_alive_reason,
                ScoreRun.clv_reason,
            ).order_by(ScoreRun.id.desc())
        ).mappings()
        return jsonable_encoder([dict(r) for r in rows])


@router.get("/playbooks")
def playbooks(request: Request, who: Viewer) -> list[dict[str, Any]]:
    return interaction(request).playbook_list()


@router.get("/playbooks/{name}/preview", responses=documented(422))
def preview_playbook(request: Request, who: Analyst, name: Name) -> dict[str, Any]:
    """Who would get this playbook's message if it were planned now (changes nothing)."""
    now = datetime.now(UTC)
    result = interaction(request).plan(now, now, write=False, only_playbook=name)
    sample = result.decided.head(20).select(
        [
            c
            for c in ("customer_id", "occasion", "status", "reason", "due_at")
            if c in result.decided
        ]
    )
    return jsonable_encoder(result.summary() | {"sample": sample.to_dicts()})


@router.post("/playbooks/{name}/enable", responses=documented(422))
def enable_playbook(request: Request, who: Marketer, name: Name) -> dict[str, Any]:
    interaction(request).enable(name, True, datetime.now(UTC), actor_of(request, who))
    return {"name": name, "enabled": True}


@router.post("/playbooks/{name}/disable", responses=documented(422))
def disable_playbook(request: Request, who: Marketer, name: Name) -> dict[str, Any]:
    interaction(request).enable(name, False, datetime.now(UTC), actor_of(request, who))
    return {"name": name, "enabled": False}


@router.post("/plan")
def run_plan(request: Request, who: Marketer) -> dict[str, Any]:
    """Evaluate every playbook now and write the decisions to the outbox."""
    now = datetime.now(UTC)
    return jsonable_encoder(interaction(request).plan(now, now).summary())


@router.get("/outbox/summary")
def outbox_summary(request: Request, who: Viewer) -> list[dict[str, Any]]:
    with request.app.state.engine.connect() as connection:
        return outbox.outbox_counts(connection)


@router.post("/imports/{kind}", responses=documented(413, 422))
async def upload_import(
    request: Request,
    who: Analyst,
    kind: ImportKind,
    file: UploadFile,
    source: Annotated[str, Query(max_length=100)] = "default",
    skip_invalid: bool = False,
) -> dict[str, Any]:
    """Import an uploaded file through the same importer as `relmark import`."""
    with tempfile.TemporaryDirectory() as folder:
        path = await uploads.save(file, Path(folder))
        with paths_hidden(folder, path.name):
            # minutes of CPU and I/O for a large file: a worker thread, never the event loop
            report, identified = await run_in_threadpool(
                pipeline.import_and_identify,
                request.app.state.engine,
                ImportOptions(
                    kind,
                    path,
                    source=source,
                    skip_invalid=skip_invalid,
                    currency=request.app.state.settings.currency,
                    timezone=request.app.state.settings.timezone,
                ),
                now=datetime.now(UTC),
                actor=actor_of(request, who),
            )
    reply = {"import": public_report(report, path.name), "identity": {"merges": identified.merges}}
    return jsonable_encoder(reply)


@router.get("/reports/uplift", responses=documented(422))
def uplift(
    request: Request,
    who: Viewer,
    playbook: ShortText = None,
    window_days: Annotated[int, Query(ge=1, le=90)] = 7,
) -> dict[str, Any]:
    return interaction(request).uplift(playbook, window_days)


@router.get(
    "/reports/kpi",
    description="active: customers with P(alive) of at least active_rule.p_alive_at_least, or, "
    "where the run has no P(alive), a purchase within active_rule.purchase_within_days. "
    "customer_equity_minor: the sum of lifetime values (null with customer_equity_reason when "
    "they could not be computed); score_run says the model, the reasons for empty values and "
    "the value's horizon and margin.",
)
def kpi(request: Request, who: Viewer) -> dict[str, Any]:
    def compute() -> dict[str, Any]:
        with request.app.state.engine.connect() as connection:
            return jsonable_encoder(customer_store.kpis(connection))

    return request.app.state.figures.get("kpi", compute)
