"""`relmark offers redeem|show|list|void|expire` through the real CLI, and the engine's
expire-offers job; both backends."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from typer.testing import CliRunner

from relmark.engine.jobs import JobContext
from relmark.engine.upkeep import expire_offers, upkeep_jobs
from relmark.interfaces.cli import app
from relmark.store import audit, offers
from relmark.store.offers import OfferTerms

from .conftest import Shop

runner = CliRunner()
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def people(shop: Shop) -> list[str]:
    shop.customers(
        [
            ["C0", "ana@example.si", "", "Ana", "sl", "SI", "Europe/Ljubljana", "", "", "yes"],
            ["C1", "bor@example.si", "", "Bor", "sl", "SI", "Europe/Ljubljana", "", "", "yes"],
        ]
    )
    shop.products([["TEA", "Tea", "tea", ""]])
    shop.orders(
        [
            ["A1", "C0", "2026-06-05T09:00:00Z", "EUR", "completed", "TEA", 2, "4.20"],
            ["B1", "C1", "2026-06-05T09:00:00Z", "EUR", "completed", "TEA", 2, "4.20"],
        ]
    )
    return ["--db", shop.engine.url.render_as_string(hide_password=False)]


def grant(shop: Shop, customer: str, days: int = 30) -> str:
    with shop.engine.begin() as connection:
        return str(
            offers.grant(
                connection,
                customer_id=shop.id_of(customer),
                terms=OfferTerms(kind="discount", code_prefix="BACK", percent_off=10),
                expires_at=NOW + timedelta(days=days),
                now=NOW,
            )["code"]
        )


def run(*args: str) -> Any:
    return runner.invoke(app, list(args))


def test_redeem_show_and_list_an_offer(shop: Shop) -> None:
    db = people(shop)
    code = grant(shop, "C0")
    grant(shop, "C1")

    refused = run("offers", "redeem", code, "--order", "B1", *db)
    done = run("offers", "redeem", code.lower(), "--order", "A1", *db, "--json")
    shown = run("offers", "show", code, *db, "--json")
    listed = run("offers", "list", "--customer", "ana@example.si", *db, "--json")
    redeemed = run("offers", "list", "--status", "redeemed", *db, "--json")
    bad_status = run("offers", "list", "--status", "sold", *db)

    assert refused.exit_code == 1
    assert "refused: it was given to another customer" in refused.output
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["status"] == "redeemed"
    detail = json.loads(shown.output)
    assert (detail["status"], detail["uses"], detail["value"]) == ("redeemed", 1, "10%")
    assert [r["order_id"] for r in detail["redemptions"]] == [json.loads(done.output)["order_id"]]
    assert [i["code"] for i in json.loads(listed.output)["items"]] == [code]
    assert json.loads(redeemed.output)["total"] == 1
    assert bad_status.exit_code == 1
    assert "unknown offer status 'sold'" in bad_status.output
    with shop.engine.connect() as connection:
        actions = [e["action"] for e in audit.entries(connection)]
    assert actions.count("offer.redeem") == 1
    assert run("offers", "show", "BACK-ZZZZZZZZ", *db).exit_code == 1


def test_void_needs_a_reason_and_is_audited(shop: Shop) -> None:
    db = people(shop)
    code = grant(shop, "C0")

    missing = run("offers", "void", code, *db)
    voided = run("offers", "void", code, "--reason", "sent by mistake", *db)
    again = run("offers", "void", code, "--reason", "twice", *db)
    redeem = run("offers", "redeem", code, "--order", "A1", *db)

    assert missing.exit_code != 0
    assert voided.exit_code == 0, voided.output
    assert f"voided {code}: sent by mistake" in voided.output
    assert again.exit_code == 1
    assert "already void" in again.output
    assert "it was voided" in redeem.output
    with shop.engine.connect() as connection:
        [entry] = [e for e in audit.entries(connection) if e["action"] == "offer.void"]
    assert entry["actor_kind"] == "cli"


def test_expire_by_command_and_by_the_engine_job_is_idempotent(shop: Shop) -> None:
    db = people(shop)
    soon = grant(shop, "C0", days=1)
    grant(shop, "C1", days=60)
    later = (NOW + timedelta(days=2)).isoformat()

    first = run("offers", "expire", "--as-of", later, *db)
    second = run("offers", "expire", "--as-of", later, *db)

    assert "1 offer(s) expired" in first.output
    assert "0 offer(s) expired" in second.output
    with shop.engine.connect() as connection:
        assert offers.find(connection, soon)["status"] == "expired"

    # the engine runs the same hourly, by the clock sends issue offers by
    assert "expire-offers" in {job.name for job in upkeep_jobs()}
    relmark = shop.interaction()
    context = JobContext(relmark, None, NOW, NOW + timedelta(days=90), print)  # type: ignore[arg-type]
    assert expire_offers(context) == "offers: 1 expired, 0 unsent reservation(s) voided"
    assert expire_offers(context) == "offers: 0 expired, 0 unsent reservation(s) voided"
