"""Referral farming closed: the loyalty programme's referral points go only with a reward
given in this run, to the live referrer (not to a merged profile, not again for referrals
rewarded before the programme was on), and a referee no one can reach (no e-mail, no phone:
a forged order with a made-up user id) earns nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from relmark.interact.loyalty import ENABLED_KEY
from relmark.store.kv import put_setting

from .conftest import NOW, Referrals
from .test_rewards import ORDERED, attributed, reward


def test_referral_points_go_with_this_runs_rewards_to_the_live_referrer(
    shop: Referrals,
) -> None:
    # given Bor's referral rewarded while the programme was off
    attributed(shop, ["B-1", "BOR", ORDERED.date().isoformat(), "40.00", "EUR", "completed"])
    assert reward(shop.engine, days_later=21).rewarded == 1
    # and then the programme on, Ana merged into Anna, and Fil's first order with Ana's code
    with shop.engine.begin() as connection:
        put_setting(connection, ENABLED_KEY, True, NOW)
    shop.customers([["ANNA", "anna@example.com", "", "Anna", "SI", "", ""]])
    ana, anna = shop.id_of("ANA"), shop.id_of("ANNA")
    with shop.engine.begin() as connection:
        connection.execute(
            text("UPDATE customers SET merged_into_id = :s WHERE id = :a"), {"s": anna, "a": ana}
        )
    later = (ORDERED + timedelta(days=1)).date().isoformat()
    attributed(shop, ["F-1", "FIL", later, "40.00", "EUR", "completed"])

    # when the reward job runs past Fil's window, twice
    first = reward(shop.engine, days_later=23)
    reward(shop.engine, days_later=24)

    # then only Fil's referral brings points, once, to Anna, the live profile
    assert first.rewarded == 1
    fil = shop.value("SELECT id FROM referrals WHERE status = 'rewarded' ORDER BY id DESC")
    assert shop.rows(
        "SELECT customer_id, occasion, points FROM loyalty_entries WHERE rule = 'referral'"
    ) == [(anna, f"referral:{fil}:referrer", 250)]


def test_a_referee_no_one_can_reach_is_rejected_when_the_reward_falls_due(
    shop: Referrals,
) -> None:
    # given Gus, known by a user id alone (no e-mail, no phone), orders with Ana's code
    shop.customers([["GUS", "", "", "", "SI", "", ""]])
    attributed(shop, ["G-1", "GUS", ORDERED.date().isoformat(), "40.00", "EUR", "completed"])

    # when the job runs inside the window (an identify may still bring his e-mail), then after
    early = reward(shop.engine)
    due = reward(shop.engine, days_later=21)

    # then it waits, and is then rejected as unreachable: no offer, no points
    assert (early.waiting, early.rejected) == (1, {})
    assert (due.rewarded, due.rejected) == (0, {"referee_unreachable": 1})
    assert shop.rows("SELECT status, reason FROM referrals") == [
        ("rejected", "referee_unreachable")
    ]
    assert shop.value("SELECT COUNT(*) FROM offers") == 0


def test_a_referee_reachable_by_phone_alone_is_rewarded(shop: Referrals) -> None:
    shop.customers([["HAN", "", "+38641999888", "Han", "SI", "", ""]])
    attributed(shop, ["H-1", "HAN", ORDERED.date().isoformat(), "40.00", "EUR", "completed"])
    assert reward(shop.engine, days_later=21).rewarded == 1
