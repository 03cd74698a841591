"""`relmark referrals list|show|ambassadors`: the same figures as the API, as tables or JSON,
and clear refusals (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from relmark.interfaces.cli import app

from .conftest import Referrals

runner = CliRunner()


def db(shop: Referrals) -> list[str]:
    return ["--db", shop.engine.url.render_as_string(hide_password=False)]


def with_referrals(shop: Referrals) -> str:
    code = shop.code_of("ANA")
    shop.orders(
        [
            ["B-1", "BOR", "2026-05-01", "40.00", "EUR", "completed", code],
            ["C-1", "CIR", "2026-05-02", "25.00", "EUR", "completed", code],
        ]
    )
    return code


def test_list_shows_each_verdict_and_filters_by_status(shop: Referrals) -> None:
    with_referrals(shop)
    listed = runner.invoke(app, ["referrals", "list", *db(shop), "--format", "json"])
    rejected = runner.invoke(
        app, ["referrals", "list", "--status", "rejected", *db(shop), "--json"]
    )
    table = runner.invoke(app, ["referrals", "list", *db(shop)])

    assert listed.exit_code == 0, listed.output
    items = json.loads(listed.stdout)["items"]
    assert [(i["order_number"], i["status"], i["reason"]) for i in items] == [
        ("C-1", "rejected", "same_email"),
        ("B-1", "pending", None),
    ]
    assert [i["order_number"] for i in json.loads(rejected.stdout)["items"]] == ["C-1"]
    assert "referrals: 2 of 2" in table.stdout  # (a narrow terminal wraps the cells)


def test_show_gives_the_code_link_and_both_sides(shop: Referrals) -> None:
    code = with_referrals(shop)
    ana = runner.invoke(app, ["referrals", "show", str(shop.id_of("ANA")), *db(shop), "--json"])
    bor = runner.invoke(app, ["referrals", "show", "BOR@example.com", *db(shop), "--json"])

    assert ana.exit_code == 0, ana.output
    shown = json.loads(ana.stdout)
    assert (shown["code"], shown["link"]) == (code, f"http://127.0.0.1:8000/?ref={code}")
    assert [r["order_number"] for r in shown["referred"]] == ["C-1", "B-1"]
    theirs = json.loads(bor.stdout)
    assert theirs["code"].startswith("REF-")
    assert theirs["code"] != code  # Bor got his own, made on first need
    assert [r["referrer_id"] for r in theirs["referred_by"]] == [shop.id_of("ANA")]


def test_ambassadors_rank_by_value_brought(shop: Referrals) -> None:
    with_referrals(shop)
    result = runner.invoke(app, ["referrals", "ambassadors", *db(shop), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["run_id"] is None
    assert [
        (
            i["referrer_id"],
            i["customers"],
            i["value_minor"],
            i["basis"],
            i["pending"],
            i["rejected"],
        )
        for i in report["items"]
    ] == [(shop.id_of("ANA"), 1, 4000, "revenue", 1, 1)]


def test_bad_input_is_one_clear_message(shop: Referrals) -> None:
    status = runner.invoke(app, ["referrals", "list", "--status", "maybe", *db(shop)])
    nobody = runner.invoke(app, ["referrals", "show", "nobody@example.com", *db(shop)])
    assert status.exit_code == 1
    assert "--status: 'maybe' is not one of pending, rewarded, rejected" in status.stderr
    assert nobody.exit_code == 1
    assert "nobody@example.com" in nobody.stderr
    assert "Traceback" not in nobody.output
