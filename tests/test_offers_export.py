"""`relmark offers export`: every code that went out, for the shop, through the real CLI on
SQLite and PostgreSQL: e-mails only with consent to sharing, restricted customers unnamed,
the Shopify import layout, bad options refused with nothing written, every export audited."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, update
from typer.testing import CliRunner

from relmark.interfaces.cli import app
from relmark.store.audit import entries
from relmark.store.models import Customer

from . import offer_factory as make

runner = CliRunner()


def shop(engine: Engine) -> dict[str, int]:
    """Ana shares her data, Bo does not, Cy is restricted; five offers in four states."""
    ana = make.customer(engine, "A1", email="ana@example.si", first_name="Ana")
    bo = make.customer(engine, "B1", email="bo@example.my", first_name="Bo")
    cy = make.customer(engine, "C1", email="cy@example.kz", first_name="Cy")
    make.share(engine, ana)
    with engine.begin() as connection:
        connection.execute(update(Customer).where(Customer.id == cy).values(restricted_at=make.T0))
    make.offer(engine, ana, "BACK-AAAA2222", playbook="win-back")
    make.offer(
        engine,
        bo,
        "SAVE-BBBB3333",
        percent_off=None,
        amount_minor=1000,
        currency="EUR",
        min_order_minor=5000,
        max_uses=3,
        uses=1,
    )
    make.offer(engine, cy, "BACK-CCCC4444")
    make.offer(engine, bo, "GIFT-DDDD5555", kind="gift", percent_off=None, gift="tote-bag")
    make.offer(engine, ana, "OLD-EEEE6666", status="expired")
    make.offer(engine, ana, "NEXT-FFFF7777", status="reserved", issued_at=None)
    return {"ana": ana, "bo": bo, "cy": cy}


def export(engine: Engine, tmp_path: Path, *options: str) -> tuple[int, str, list[dict]]:
    target = tmp_path / "offers.csv"
    url = engine.url.render_as_string(hide_password=False)
    result = runner.invoke(app, ["offers", "export", "--out", str(target), "--db", url, *options])
    if not target.exists():
        return result.exit_code, result.output, []
    with target.open(encoding="utf-8") as handle:
        return result.exit_code, result.output, list(csv.DictReader(handle))


def test_csv_export_shares_e_mail_only_with_consent_and_names_no_restricted_customer(
    engine: Engine, tmp_path: Path
) -> None:
    # given
    ids = shop(engine)
    # when
    code, output, rows = export(engine, tmp_path)
    # then
    assert code == 0, output
    by_code = {r["code"]: r for r in rows}
    assert list(by_code) == [
        "BACK-AAAA2222",
        "SAVE-BBBB3333",
        "BACK-CCCC4444",
        "GIFT-DDDD5555",
        "OLD-EEEE6666",
    ]  # the reserved code never went out
    assert by_code["BACK-AAAA2222"] == {
        "code": "BACK-AAAA2222",
        "kind": "discount",
        "status": "issued",
        "percent_off": "15",
        "amount": "",
        "currency": "",
        "gift": "",
        "customer_id": str(ids["ana"]),
        "email": "ana@example.si",
        "issued_at": "2026-05-01T09:00:00Z",
        "expires_at": (make.T0 + timedelta(days=30)).isoformat().replace("+00:00", "Z"),
        "min_order": "",
        "max_uses": "1",
        "uses": "0",
    }
    saving = by_code["SAVE-BBBB3333"]
    assert (saving["amount"], saving["currency"], saving["min_order"]) == ("10.00", "EUR", "50.00")
    assert (saving["customer_id"], saving["email"]) == (str(ids["bo"]), "")  # no consent
    restricted = by_code["BACK-CCCC4444"]
    assert (restricted["customer_id"], restricted["email"]) == ("", "")
    assert by_code["GIFT-DDDD5555"]["gift"] == "tote-bag"
    with engine.connect() as connection:
        audit = [e for e in entries(connection) if e["action"] == "export.offers"]
    assert [e["detail"] for e in audit] == [{"rows": 5}]


def test_status_filter_keeps_only_that_status(engine: Engine, tmp_path: Path) -> None:
    shop(engine)
    code, output, rows = export(engine, tmp_path, "--status", "expired")
    assert code == 0, output
    assert [r["code"] for r in rows] == ["OLD-EEEE6666"]


def test_shopify_layout_has_one_discount_per_code_and_no_gifts(
    engine: Engine, tmp_path: Path
) -> None:
    shop(engine)
    code, output, rows = export(engine, tmp_path, "--format", "shopify", "--status", "issued")
    assert code == 0, output
    assert [r["Code"] for r in rows] == ["BACK-AAAA2222", "SAVE-BBBB3333", "BACK-CCCC4444"]
    saving = rows[1]  # 3 uses, 1 used: 2 left, and one customer may use it more than once
    assert saving == {
        "Title": "SAVE-BBBB3333",
        "Command": "MERGE",
        "Code": "SAVE-BBBB3333",
        "Type": "Fixed Amount",
        "Value": "10.00",
        "Minimum Requirement": "Subtotal",
        "Minimum Requirement Subtotal": "50.00",
        "Usage Limit": "2",
        "Applies Once Per Customer": "FALSE",
        "Starts At": "2026-05-01T09:00:00Z",
        "Ends At": "2026-05-31T09:00:00Z",
    }
    assert (rows[0]["Type"], rows[0]["Value"], rows[0]["Minimum Requirement"]) == (
        "Percentage",
        "15",
        "None",
    )
    assert (rows[0]["Usage Limit"], rows[0]["Applies Once Per Customer"]) == ("1", "TRUE")
    assert "email" not in " ".join(rows[0]).lower()


def test_shopify_layout_never_reactivates_a_closed_code(engine: Engine, tmp_path: Path) -> None:
    """MERGE updates a code that exists at the shop, so a void, redeemed or expired code in
    the file would come back to life there: only live codes go out, with the uses left."""
    ana = shop(engine)["ana"]
    make.offer(engine, ana, "VOID-GGGG8888", status="void", close_reason="fraud")
    make.offer(engine, ana, "USED-HHHH9999", status="redeemed", uses=1)
    code, output, rows = export(engine, tmp_path, "--format", "shopify")
    assert code == 0, output
    assert [r["Code"] for r in rows] == ["BACK-AAAA2222", "SAVE-BBBB3333", "BACK-CCCC4444"]
    assert {r["Command"] for r in rows} == {"MERGE"}


@pytest.mark.parametrize("status", ["void", "redeemed", "expired", "reserved"])
def test_shopify_layout_refuses_any_status_but_issued(
    engine: Engine, tmp_path: Path, status: str
) -> None:
    shop(engine)
    code, output, _ = export(engine, tmp_path, "--format", "shopify", "--status", status)
    assert code == 1
    assert "--status" in output
    assert "shopify" in output
    assert "nothing was changed" in output
    assert not list(tmp_path.glob("offers.csv*"))


def test_bad_status_or_format_is_refused_and_writes_nothing(engine: Engine, tmp_path: Path) -> None:
    shop(engine)
    code, output, rows = export(engine, tmp_path, "--status", "used")
    assert code == 1
    assert "--status" in output
    assert "'used' is not one of" in output
    assert "nothing was changed" in output
    assert not (tmp_path / "offers.csv").exists()
    code, output, _ = export(engine, tmp_path, "--format", "woo")
    assert code == 1
    assert "neither csv nor shopify" in output
    assert not list(tmp_path.glob("offers.csv*"))
    with engine.connect() as connection:
        assert not [e for e in entries(connection) if e["action"] == "export.offers"]


def test_the_export_reads_a_page_at_a_time(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Memory holds one page of rows, whatever the number of offers (1M offers measured:
    flat at ~145 MB with a small SQLite page cache; see the report)."""
    from relmark.store import offer_export

    shop(engine)
    monkeypatch.setattr(offer_export, "PAGE", 2)
    with engine.connect() as connection:
        pages = [p.height for p in offer_export.offer_pages(connection)]
    assert pages == [2, 2, 1]
