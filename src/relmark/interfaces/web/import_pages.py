"""The dashboard's import page: the API's import from a form, with the same byte cap, the
file streamed to disk and the import run in a worker thread, never on the event loop."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from relmark import pipeline
from relmark.accounts import Role
from relmark.enums import ImportKind
from relmark.errors import InvalidInput
from relmark.ingest.importer import ImportOptions
from relmark.interfaces.web import uploads
from relmark.interfaces.web.auth import actor_of
from relmark.interfaces.web.pages import render, signed_in

router = APIRouter(include_in_schema=False)


@router.get("/imports", response_class=HTMLResponse)
async def imports_page(request: Request) -> Response:
    who = await signed_in(request, Role.ANALYST)
    return render(request, who, "imports.html", kinds=list(ImportKind), result=None, problems=None)


@router.post("/imports", response_class=HTMLResponse)
async def imports_upload(request: Request) -> Response:
    uploads.refuse_declared_excess(request)
    who = await signed_in(request, Role.ANALYST)
    form = await request.form()
    upload, kind = form.get("file"), form.get("kind")
    result, problems = None, None
    if not isinstance(upload, UploadFile) or kind not in {k.value for k in ImportKind}:
        problems = [{"line": None, "column": None, "message": "choose a kind and a file"}]
    else:
        with tempfile.TemporaryDirectory() as folder:
            path = await uploads.save(upload, Path(folder))
            try:
                report, _identified = await run_in_threadpool(
                    pipeline.import_and_identify,
                    request.app.state.engine,
                    ImportOptions(
                        ImportKind(str(kind)),
                        path,
                        currency=request.app.state.settings.currency,
                        timezone=request.app.state.settings.timezone,
                    ),
                    now=datetime.now(UTC),
                    actor=actor_of(request, who),
                )
                result = report.as_dict()
            except InvalidInput as exc:
                problems = [
                    {"line": p.line, "column": p.column, "message": p.message} for p in exc.problems
                ]
    return render(
        request, who, "imports.html", kinds=list(ImportKind), result=result, problems=problems
    )
