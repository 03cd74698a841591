"""Rewards once the referee's order is past its return window: the referrer's discount offer,
idempotent runs, verdicts that changed since attribution, and the CLI over both backends."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from relmark.config import Settings
from relmark.interact.referrals import reward_referrals, reward_terms
from relmark.interfaces.cli import app
from relmark.store.audit import Actor
from relmark.store.offer_models import Offer
from relmark.store.referral_rewards import reward_due

from .conftest import NOW, Referrals

ACTOR = Actor("engine", "pytest")
ORDERED = NOW - timedelta(days=10)  # inside the 30-day window at NOW, past it 21 days on


def attributed(shop: Referrals, *rows: list[str]) -> str:
    code = shop.code_of("ANA")
    shop.orders([[*row, code] for row in rows])
    return code


def reward(engine: Engine, days_later: int = 0):  # noqa: ANN201
    settings = Settings(secret_key="x" * 32)
    return reward_referrals(engine, [], settings, NOW + timedelta(days=days_later), ACTOR)


def test_the_referrer_is_rewarded_once_past_the_return_window(shop: Referrals) -> None:
    # given Bor's first order with Ana's code, ten days ago
    attributed(shop, ["B-1", "BOR", ORDERED.date().isoformat(), "40.00", "EUR", "completed"])

    # when the job runs inside the window, then after it, then again
    early = reward(shop.engine)
    due = reward(shop.engine, days_later=21)
    again = reward(shop.engine, days_later=22)

    # then nothing is issued early, one offer for Ana after, nothing more on a repeat
    assert (early.rewarded, early.waiting) == (0, 1)
    assert (due.rewarded, due.waiting) == (1, 0)
    assert (again.rewarded, again.waiting, again.rejected) == (0, 0, {})
    with shop.engine.connect() as connection:
        offers = connection.execute(
            select(
                Offer.code,
                Offer.kind,
                Offer.status,
                Offer.customer_id,
                Offer.percent_off,
                Offer.max_uses,
                Offer.issued_at,
                Offer.expires_at,
            )
        ).all()
    assert len(offers) == 1
    code, kind, status, owner, percent, uses, issued, expires = offers[0]
    assert issued == NOW + timedelta(days=21)
    assert code == due.offers[0]
    assert code.startswith("THANKS-")
    assert (kind, status, owner, float(percent), uses) == (
        "referral_reward",
        "issued",
        shop.id_of("ANA"),
        10.0,
        1,
    )
    assert expires - issued == timedelta(days=180)
    assert shop.rows(
        "SELECT status, referee_percent, reward_offer_id IS NOT NULL FROM referrals"
    ) == [("rewarded", 10, True)]
    assert shop.rows("SELECT action, customer_id FROM audit_log") == [
        ("referral.rewarded", shop.id_of("ANA"))
    ]


def test_a_refund_after_attribution_rejects_instead_of_rewarding(shop: Referrals) -> None:
    day = ORDERED.date().isoformat()
    code = attributed(shop, ["B-1", "BOR", day, "40.00", "EUR", "completed"])
    shop.orders([["B-1", "BOR", day, "40.00", "EUR", "refunded", code]])  # the shop's update

    report = reward(shop.engine, days_later=21)

    assert (report.rewarded, report.rejected) == (0, {"order_refunded": 1})
    assert shop.referrals() == [("BOR", "B-1", "import", "rejected", "order_refunded")]
    assert shop.value("SELECT COUNT(*) FROM offers") == 0


def test_a_merge_found_later_makes_it_a_self_referral(shop: Referrals) -> None:
    # given "Anna" ordering with Ana's code from a new address: nothing ties them yet
    shop.customers([["ANNA", "anna.k@example.org", "", "Ana", "SI", "", ""]])
    attributed(shop, ["N-1", "ANNA", ORDERED.date().isoformat(), "40.00", "EUR", "completed"])
    assert shop.referrals()[0][3] == "pending"

    # when a later export holds both addresses, identity resolution folds them into one
    shop.customers([["ANA-CRM", "anna.k@example.org", "+38640111222", "Ana", "SI", "", ""]])
    from relmark import pipeline

    pipeline.identify(shop.engine, now=NOW)
    report = reward(shop.engine, days_later=21)

    # then the reward job rejects it as a self-referral
    assert report.rejected == {"self_referral": 1}
    assert shop.value("SELECT reason FROM referrals") == "self_referral"


def test_the_percent_is_the_referral_playbooks_promise() -> None:
    from relmark.interact.playbook import load_playbooks

    shipped = reward_terms(load_playbooks(None), Settings(referral_return_window_days=14))
    assert shipped.percent_off == 10.0
    assert shipped.return_window == timedelta(days=14)


def test_the_cli_rewards_with_the_playbooks_percent(shop: Referrals, tmp_path) -> None:
    attributed(shop, ["B-1", "BOR", ORDERED.date().isoformat(), "40.00", "EUR", "completed"])
    folder = tmp_path / "books"
    folder.mkdir()
    shipped = (
        __import__("importlib.resources").resources.files("relmark.interact")
        / "playbooks"
        / "referral.toml"
    ).read_text("utf-8")
    (folder / "referral.toml").write_text(
        shipped.replace("percent_off = 10", "percent_off = 15"), encoding="utf-8"
    )
    db = ["--db", shop.engine.url.render_as_string(hide_password=False)]
    as_of = (NOW + timedelta(days=21)).isoformat()

    result = CliRunner().invoke(
        app, ["referrals", "reward", "--as-of", as_of, "--playbooks", str(folder), *db, "--json"]
    )

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["rewarded"] == 1
    assert shop.value("SELECT percent_off FROM offers") == 15


def test_a_bad_as_of_is_refused_clearly(shop: Referrals) -> None:
    db = ["--db", shop.engine.url.render_as_string(hide_password=False)]
    result = CliRunner().invoke(app, ["referrals", "reward", "--as-of", "soon", *db])
    assert result.exit_code == 1
    assert "--as-of: 'soon' is neither a date" in result.stderr


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_concurrent_reward_runs_issue_one_offer_per_referral(shop: Referrals) -> None:
    # given four pending referrals past their window
    for name in ("BOR", "FIL"):
        shop.orders(
            [
                [
                    f"{name}-1",
                    name,
                    ORDERED.date().isoformat(),
                    "40.00",
                    "EUR",
                    "completed",
                    shop.code_of("ANA"),
                ]
            ]
        )
    terms = reward_terms([], Settings())
    barrier = threading.Barrier(4)
    results: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with shop.engine.begin() as connection:
                barrier.wait(timeout=10)
                results.append(
                    reward_due(connection, terms, NOW + timedelta(days=21), ACTOR).rewarded
                )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    # when four engines run the job at the same moment
    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then each referral is rewarded exactly once
    assert errors == []
    assert sum(results) == 2
    assert shop.value("SELECT COUNT(*) FROM offers") == 2
    assert shop.value("SELECT COUNT(DISTINCT reward_offer_id) FROM referrals") == 2


def test_a_rewarded_referrer_also_gets_the_programmes_referral_points_once(
    shop: Referrals,
) -> None:
    # given the loyalty programme switched on, and Bor's first order with Ana's code
    from relmark.interact.loyalty import ENABLED_KEY
    from relmark.store.kv import put_setting
    from relmark.store.loyalty_ledger import balance_of, ledger_sum

    with shop.engine.begin() as connection:
        put_setting(connection, ENABLED_KEY, True, NOW)
    attributed(shop, ["B-1", "BOR", ORDERED.date().isoformat(), "40.00", "EUR", "completed"])

    # when the reward job runs past the window, twice
    reward(shop.engine, days_later=21)
    reward(shop.engine, days_later=22)

    # then Ana holds the shipped programme's 250 referral points, posted once
    ana = shop.id_of("ANA")
    with shop.engine.connect() as connection:
        assert balance_of(connection, ana) == 250
        assert ledger_sum(connection, ana) == 250
