"""The demo store keeps its promises over its history (issue 14): offers issued months ago
were redeemed by later orders or expired, gifts were packed with a later order or are still
owed, referred customers were rewarded or rejected with a reason, the uplift report has an
offer cost, and every code any demo mail carried is in `relmark offers export`."""

from __future__ import annotations

import csv
import email
import json
import re
from email import policy
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from typer.testing import CliRunner

from relmark.interfaces.cli import app
from relmark.store import gifts

runner = CliRunner()
#: Any offer code the shop could mail: a prefix and eight characters of the code alphabet.
CODE = re.compile(r"\b[A-Z][A-Z0-9]{0,11}-[2-9A-HJ-NP-Z]{8}\b")
#: A customer's own referral code is no offer (it is shared, not redeemed): not exported.
REFERRAL = "REF-"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("demo14")
    db = f"sqlite:///{folder / 'demo.db'}"
    result = runner.invoke(
        app,
        [
            "demo",
            "--customers",
            "1000",
            "--seed",
            "7",
            "--as-of",
            "2026-06-30",
            "--db",
            db,
            "--mail-dir",
            str(folder / "mail"),
            "--no-serve",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    return {"db": db, "folder": folder, "result": json.loads(result.stdout)}


@pytest.fixture(scope="module")
def store(built: dict[str, Any]) -> Engine:
    engine = create_engine(built["db"])
    yield engine
    engine.dispose()


def _counts(engine: Engine, query: str) -> dict[tuple, int]:
    with engine.connect() as connection:
        return {tuple(row[:-1]): int(row[-1]) for row in connection.execute(text(query))}


def test_offers_were_issued_months_ago_then_redeemed_or_expired(
    built: dict[str, Any], store: Engine
) -> None:
    by_status = _counts(store, "SELECT status, COUNT(*) FROM offers GROUP BY 1")
    assert by_status.get(("issued",), 0) > 0
    assert by_status.get(("redeemed",), 0) > 0
    assert by_status.get(("expired",), 0) > 0
    with store.connect() as connection:
        months = connection.execute(
            text(
                "SELECT COUNT(DISTINCT substr(issued_at, 1, 7)) FROM offers "
                "WHERE message_id IS NOT NULL"
            )
        ).scalar_one()
        redemptions = connection.execute(
            text(
                "SELECT r.redeemed_at, d.ordered_at, o.issued_at, o.expires_at, "
                "r.discount_minor FROM offer_redemptions r JOIN orders d ON d.id = r.order_id "
                "JOIN offers o ON o.id = r.offer_id"
            )
        ).all()
        timeline = connection.execute(
            text("SELECT COUNT(*) FROM customer_events WHERE kind = 'offer_redeemed'")
        ).scalar_one()
    assert months >= 3  # issued over the history (two earlier sends), not only at its end
    assert redemptions
    assert timeline == len(redemptions)
    for redeemed_at, ordered_at, issued_at, expires_at, discount in redemptions:
        assert issued_at < ordered_at < expires_at  # a later order, while it was valid
        assert redeemed_at == ordered_at  # used at the checkout of that order
        assert discount > 0
    promises = built["result"]["promises"]
    assert promises["refused"] == 0
    assert promises["redeemed"] == len(redemptions)
    assert len(promises["rounds"]) == 2
    assert all(r["sent"] > 0 for r in promises["rounds"])


def test_some_gifts_travelled_with_a_later_order_others_are_still_owed(store: Engine) -> None:
    with store.connect() as connection:
        fulfilled = connection.execute(
            text(
                "SELECT o.issued_at, d.ordered_at, o.status FROM offers o "
                "JOIN orders d ON d.id = o.fulfilled_order_id WHERE o.kind = 'gift'"
            )
        ).all()
        owed, _rows = gifts.pick_list(connection)
        due, _rows = gifts.pick_list(connection, due_only=True)
        audited = connection.execute(
            text("SELECT COUNT(*) FROM audit_log WHERE action = 'gift.fulfil'")
        ).scalar_one()
    assert fulfilled
    assert audited == len(fulfilled)
    assert all(issued < ordered and status == "redeemed" for issued, ordered, status in fulfilled)
    assert due >= 1  # a customer ordered again and the gift is yet to be packed
    assert owed > due  # and some wait for their customer's next order


def test_referrals_were_rewarded_and_rejected_with_reasons(
    built: dict[str, Any], store: Engine
) -> None:
    by_status = _counts(store, "SELECT status, COUNT(*) FROM referrals GROUP BY 1")
    reasons = _counts(
        store, "SELECT reason, COUNT(*) FROM referrals WHERE status = 'rejected' GROUP BY 1"
    )
    rewards = _counts(
        store,
        "SELECT o.status, COUNT(*) FROM referrals r JOIN offers o ON o.id = r.reward_offer_id "
        "WHERE r.status = 'rewarded' GROUP BY 1",
    )
    assert by_status.get(("rewarded",), 0) > 0
    assert sum(rewards.values()) == by_status[("rewarded",)]  # each with its reward offer
    assert by_status.get(("rejected",), 0) >= 2
    assert {("self_referral",), ("referee_not_new",)} <= reasons.keys()
    listed = runner.invoke(app, ["referrals", "ambassadors", "--db", built["db"], "--json"])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout)  # the ambassadors have figures


def test_the_uplift_report_counts_what_offers_cost(built: dict[str, Any]) -> None:
    report = runner.invoke(app, ["report", "uplift", "--db", built["db"], "--json"])
    assert report.exit_code == 0, report.output
    costs = {r["playbook"]: r.get("offers_cost") for r in json.loads(report.stdout)["playbooks"]}
    assert any(cost for cost in costs.values()), costs


def test_every_code_in_every_demo_mail_is_in_the_offers_export(built: dict[str, Any]) -> None:
    mailed: set[str] = set()
    mails = sorted((built["folder"] / "mail").glob("*.eml"))
    for path in mails:
        mail = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        for part in mail.walk():
            if part.get_content_maintype() == "text":
                mailed |= set(CODE.findall(str(part.get_content())))
    sent = sum(r["sent"] for r in built["result"]["promises"]["rounds"])
    assert len(mails) == sent + built["result"]["interact"]["sent"]  # every round's mail kept
    offers = {c for c in mailed if not c.startswith(REFERRAL)}
    assert len(offers) > 20

    out = Path(built["folder"]) / "offers.csv"
    exported = runner.invoke(
        app, ["offers", "export", "--format", "csv", "--out", str(out), "--db", built["db"]]
    )
    assert exported.exit_code == 0, exported.output
    with out.open(newline="", encoding="utf-8") as handle:
        rows = {row["code"]: row for row in csv.DictReader(handle)}
    assert offers <= rows.keys(), sorted(offers - rows.keys())[:5]
    statuses = {rows[c]["status"] for c in offers}
    assert {"issued", "redeemed", "expired"} <= statuses
