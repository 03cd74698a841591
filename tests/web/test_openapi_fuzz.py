"""Issue 12's proof: schemathesis fuzzes every operation of the OpenAPI document against a
live server (uvicorn on a free port) on a small shop, on SQLite and PostgreSQL.

Checks: no server error, every status code and content type answered is documented, and
each body matches its documented schema. Examples are bounded (EXAMPLES per operation, a
fixed seed) so a run stays within a few minutes on two cores. schemathesis runs through its
command line: its pytest plugin (4.32.5) fails on pytest 9.2 ("'Function' object has no
attribute '_nodeid'"). It is in the `dev` extra, which `make test` installs; elsewhere the
test is skipped, except in CI, where it must run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from relmark.interfaces.web.app import create_app

from ..interact.conftest import scores
from .conftest import Web, served

SCHEMATHESIS = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
EXAMPLES = 25
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance"
)
pytestmark = pytest.mark.skipif(
    SCHEMATHESIS is None and not os.environ.get("CI"),
    reason="schemathesis is not installed (pip install -e '.[dev]')",
)


def small_shop(web: Web) -> None:
    """Customers in three languages, an order, a scoring run with one value left empty."""
    web.shop.customers(
        [
            ["C1", "ana@example.si", "+386 31 555 123", "Ana", "sl", "SI", "", "", "", "yes"],
            ["C2", "bo@example.my", "", "Bo", "ms", "MY", "", "", "", "no"],
            ["C3", "aigerim@example.kz", "", "Айгерим", "kk", "KZ", "", "", "", "yes"],
        ]
    )
    web.shop.products([["TEA", "Tea", "tea", ""]])
    web.shop.orders([["O1", "C1", "2026-05-31T10:00:00Z", "EUR", "completed", "TEA", 2, "4.5"]])
    ids = [web.shop.id_of(c) for c in ("C1", "C2", "C3")]
    values = [
        {"segment": "champions", "clv_minor": 90000, "p_alive": 0.9},
        {"segment": "at_risk", "clv_minor": None, "p_alive": None},
        {"segment": "new", "clv_minor": 10, "p_alive": 0.5},
    ]
    scores(web.shop.engine, dict(zip(ids, values, strict=True)), datetime(2026, 6, 1, tzinfo=UTC))


def fuzz(document: Path, url: str, key: str, paths: str, folder: Path) -> None:
    """One schemathesis run over the operations whose path matches `paths`."""
    assert SCHEMATHESIS, "schemathesis is missing: it is in the dev extra"
    command = [
        SCHEMATHESIS,
        "run",
        str(document),
        "--url",
        url,
        "--header",
        f"Authorization: Bearer {key}",
        "--checks",
        CHECKS,
        "--include-path-regex",
        paths,
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        "12",
        "--workers",
        "1",
        "--suppress-health-check",
        "all",
        "--generation-database",
        "none",
        "--no-color",
    ]
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=600)
    report = done.stdout + done.stderr
    assert done.returncode == 0, report[-6000:]
    assert " passed" in report, report[-2000:]


def test_every_operation_keeps_its_documented_promises(web: Web, tmp_path: Path) -> None:
    # given a small shop served on a real port, and its OpenAPI document
    small_shop(web)
    with served(create_app(web.shop.engine, web.settings)) as url:
        answer = httpx.get(f"{url}/api/openapi.json", headers=web.as_role("viewer"), timeout=30)
        assert answer.status_code == 200
        document = tmp_path / "openapi.json"
        document.write_text(json.dumps(answer.json()), encoding="utf-8")
        # when schemathesis calls the API with an admin key, and the tracking endpoint with
        # an ingest key, with generated (often hostile) input
        # then every answer is documented, well-formed, and never a server error
        fuzz(document, url, web.keys["admin"], "^/api/", tmp_path)
        fuzz(document, url, web.keys["ingest"], "^/v1/", tmp_path)
