"""The points ledger: postings from orders, FIFO spending, expiry, reversals, merges, tiers."""

from __future__ import annotations

import contextlib
import json
import random
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, text

from relmark.errors import InvalidInput
from relmark.interact.loyalty import grant, redeem, run_posting
from relmark.store import kv
from relmark.store.audit import Actor
from relmark.store.loyalty_ledger import NotEnoughPoints, accounts_out_of_step

from ..conftest import NOW
from ..helpers import rows
from .seed import add_customer, add_order, balance, enable, ledger, programme, set_status

STAFF = Actor("cli", "tester")


def test_orders_earn_points_once_however_often_the_job_runs(engine: Engine) -> None:
    # given a member with two completed orders, a pending and a cancelled one
    enable(engine)
    anna = add_customer(engine)
    first = add_order(engine, anna, 12345, NOW - timedelta(days=10))
    add_order(engine, anna, 1000, NOW - timedelta(days=5))
    add_order(engine, anna, 5000, NOW - timedelta(days=4), status="pending")
    add_order(engine, anna, 5000, NOW - timedelta(days=3), status="cancelled")

    # when the posting job runs twice
    report = run_posting(engine, programme(), NOW)
    again = run_posting(engine, programme(), NOW)

    # then 123 + 10 points were earned, once, expiring 12 months after each order
    assert (report.orders_posted, report.points_earned) == (2, 133)
    assert (again.orders_posted, again.points_earned) == (0, 0)
    assert ledger(engine, anna) == [("earn", "spend", 123), ("earn", "spend", 10)]
    assert balance(engine, anna) == (133, 133)
    expiry = rows(engine, "SELECT expires_at FROM loyalty_entries WHERE order_id = :o", o=first)
    assert str(expiry[0][0])[:10] == str((NOW - timedelta(days=10)).date().replace(year=2027))


def test_a_store_that_did_not_enable_the_programme_posts_nothing(engine: Engine) -> None:
    anna = add_customer(engine)
    add_order(engine, anna, 12345, NOW - timedelta(days=10))

    with pytest.raises(InvalidInput, match="loyalty programme is off"):
        run_posting(engine, programme(), NOW)

    assert ledger(engine, anna) == []


def test_spending_takes_the_earliest_expiring_points_and_expiry_only_what_is_left(
    engine: Engine,
) -> None:
    # given 30 points expiring first and 100 expiring later
    enable(engine)
    anna = add_customer(engine)
    add_order(engine, anna, 3000, NOW - timedelta(days=300))
    add_order(engine, anna, 10000, NOW - timedelta(days=100))
    run_posting(engine, programme(), NOW)

    # when 50 points buy a reward
    bought = redeem(engine, programme(), anna, "five-off", NOW, STAFF)

    # then the 30 older points are used up first, then 20 of the newer ones
    spent = rows(
        engine,
        "SELECT e.points, a.points FROM loyalty_allocations a "
        "JOIN loyalty_entries e ON e.id = a.earn_id ORDER BY e.expires_at",
    )
    assert spent == [(30, 30), (100, 20)]
    assert bought["balance"] == 80
    # and the offer exists: a points reward, issued, 5 EUR, valid for 30 days
    offer = rows(
        engine,
        "SELECT kind, status, amount_minor, currency, code, expires_at FROM offers WHERE id = :i",
        i=bought["offer_id"],
    )[0]
    assert offer[:4] == ("points_reward", "issued", 500, "EUR")
    assert offer[4] == bought["code"]
    assert offer[4].startswith("PTS-")

    # when the first entry's expiry passes: nothing of it is left to expire
    later = NOW + timedelta(days=70)
    assert run_posting(engine, programme(), later).expired_points == 0
    # when the second's passes: its 80 remaining points expire, once
    latest = NOW + timedelta(days=270)
    assert run_posting(engine, programme(), latest).expired_points == 80
    assert run_posting(engine, programme(), latest).expired_points == 0
    assert ledger(engine, anna)[-1] == ("expire", "expire", -80)
    assert balance(engine, anna) == (0, 0)


def test_a_redemption_beyond_the_balance_changes_nothing(engine: Engine) -> None:
    enable(engine)
    anna = add_customer(engine)
    add_order(engine, anna, 4000, NOW - timedelta(days=3))
    run_posting(engine, programme(), NOW)

    with pytest.raises(NotEnoughPoints, match="has 40 point"):
        redeem(engine, programme(), anna, "five-off", NOW, STAFF)

    assert rows(engine, "SELECT COUNT(*) FROM offers") == [(0,)]
    assert ledger(engine, anna) == [("earn", "spend", 40)]
    assert balance(engine, anna) == (40, 40)


def test_expired_points_cannot_be_spent_before_the_job_expires_them(engine: Engine) -> None:
    enable(engine)
    anna = add_customer(engine)
    add_order(engine, anna, 6000, NOW - timedelta(days=360))
    run_posting(engine, programme(), NOW)

    with pytest.raises(NotEnoughPoints, match="has 0 point"):
        redeem(engine, programme(), anna, "five-off", NOW + timedelta(days=10), STAFF)


def test_a_refund_takes_back_the_orders_points_own_entry_first(engine: Engine) -> None:
    # given 60 points from an older order and 100 from a newer one, 50 of them spent
    enable(engine)
    anna = add_customer(engine)
    older = add_order(engine, anna, 6000, NOW - timedelta(days=20))
    add_order(engine, anna, 10000, NOW - timedelta(days=10))
    run_posting(engine, programme(), NOW)
    redeem(engine, programme(), anna, "five-off", NOW, STAFF)  # 50 from the older entry

    # when the older order is refunded and the job runs twice
    set_status(engine, older, "refunded")
    report = run_posting(engine, programme(), NOW)
    again = run_posting(engine, programme(), NOW)

    # then its 60 points are taken back: the 10 left on its entry, then 50 of the newer
    assert (report.reversed_orders, report.points_reversed, report.points_short) == (1, 60, 0)
    assert again.reversed_orders == 0
    assert ledger(engine, anna)[-1] == ("reverse", "reverse", -60)
    assert balance(engine, anna) == (50, 50)
    taken = rows(
        engine,
        "SELECT e.order_id, a.points FROM loyalty_allocations a "
        "JOIN loyalty_entries d ON d.id = a.debit_id JOIN loyalty_entries e ON e.id = a.earn_id "
        "WHERE d.kind = 'reverse' ORDER BY a.id",
    )
    assert taken == [(older, 10), (older + 1, 50)]


def test_a_reversal_never_takes_the_balance_below_zero(engine: Engine) -> None:
    enable(engine)
    anna = add_customer(engine)
    order = add_order(engine, anna, 6000, NOW - timedelta(days=20))
    run_posting(engine, programme(), NOW)
    redeem(engine, programme(), anna, "five-off", NOW, STAFF)
    set_status(engine, order, "returned")

    report = run_posting(engine, programme(), NOW)

    assert (report.points_reversed, report.points_short) == (10, 50)
    assert balance(engine, anna) == (0, 0)
    reason = rows(engine, "SELECT reason FROM loyalty_entries WHERE kind = 'reverse'")
    assert reason == [("short by 50 point(s) already spent",)]


def test_orders_of_a_merged_profile_count_for_the_survivor(engine: Engine) -> None:
    enable(engine)
    survivor = add_customer(engine)
    absorbed = add_customer(engine)
    add_order(engine, absorbed, 7000, NOW - timedelta(days=2))
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE customers SET merged_into_id = :s WHERE id = :a"),
            {"s": survivor, "a": absorbed},
        )

    run_posting(engine, programme(), NOW)

    assert balance(engine, survivor) == (70, 70)
    assert balance(engine, absorbed) == (0, 0)


def test_other_currencies_convert_at_the_stores_rates_or_wait_for_one(engine: Engine) -> None:
    enable(engine)
    anna = add_customer(engine)
    add_order(engine, anna, 10000, NOW - timedelta(days=2), currency="USD")
    add_order(engine, anna, 10000, NOW - timedelta(days=2), currency="GBP")
    add_order(engine, anna, 1000, NOW - timedelta(days=2), currency="JPY")
    with engine.begin() as connection:
        kv.put_setting(
            connection, "reporting-currency", {"currency": "USD", "rates": {"EUR": "2"}}, NOW
        )

    first = run_posting(engine, programme("[per_currency]\nJPY = 0.01"), NOW)

    # 100 USD is 50 EUR; 1000 yen at the file's own 0.01 a yen; GBP has no rate yet
    assert (first.orders_posted, first.points_earned, first.unconverted_orders) == (2, 60, 1)
    with engine.begin() as connection:
        kv.put_setting(
            connection,
            "reporting-currency",
            {"currency": "USD", "rates": {"EUR": "2", "GBP": "1.5"}},
            NOW,
        )
    second = run_posting(engine, programme(), NOW)
    assert (second.orders_posted, second.points_earned, second.unconverted_orders) == (1, 75, 0)


def test_tier_changes_are_customer_events(engine: Engine) -> None:
    enable(engine)
    anna = add_customer(engine)
    add_order(engine, anna, 5000, NOW - timedelta(days=30))
    run_posting(engine, programme(), NOW)
    add_order(engine, anna, 6000, NOW - timedelta(days=1))

    run_posting(engine, programme(), NOW)

    events = rows(
        engine,
        "SELECT parameters FROM customer_events WHERE customer_id = :c "
        "AND kind = 'tier_changed' ORDER BY id",
        c=anna,
    )
    parsed = [e[0] if isinstance(e[0], dict) else json.loads(e[0]) for e in events]
    assert parsed == [{"from": None, "to": "bronze"}, {"from": "bronze", "to": "silver"}]
    assert rows(engine, "SELECT tier FROM loyalty_accounts") == [("silver",)]

    # a year later the window holds nothing: back to bronze
    run_posting(engine, programme(), NOW + timedelta(days=400))
    assert rows(engine, "SELECT tier FROM loyalty_accounts") == [("bronze",)]


def test_the_birthday_bonus_is_posted_once_a_year(engine: Engine) -> None:
    enable(engine)
    anna = add_customer(engine, birthday=date(1990, 5, 20))  # 12 days before NOW
    bert = add_customer(engine, birthday=date(1990, 3, 1))  # long past
    for who in (anna, bert):
        add_order(engine, who, 1000, NOW - timedelta(days=60))
    with_bonus = programme("birthday_points = 25")

    first = run_posting(engine, with_bonus, NOW)
    again = run_posting(engine, with_bonus, NOW + timedelta(days=1))

    assert (first.birthdays, again.birthdays) == (1, 0)
    assert ("earn", "birthday", 25) in ledger(engine, anna)
    assert all(rule != "birthday" for _, rule, _ in ledger(engine, bert))


def test_manual_grants_need_a_reason_and_are_audited(engine: Engine) -> None:
    enable(engine)
    anna = add_customer(engine)

    with pytest.raises(InvalidInput, match="needs a reason"):
        grant(engine, programme(), anna, 40, "  ", NOW, STAFF)
    done = grant(engine, programme(), anna, 40, "parcel arrived late", NOW, STAFF)
    taken = grant(engine, programme(), anna, -15, "granted twice by mistake", NOW, STAFF)

    assert (done["balance"], taken["balance"]) == (40, 25)
    assert ledger(engine, anna) == [("adjust", "grant", 40), ("adjust", "grant", -15)]
    audit = rows(
        engine,
        "SELECT action, actor FROM audit_log WHERE customer_id = :c ORDER BY id",
        c=anna,
    )
    assert audit == [("loyalty.grant", "tester"), ("loyalty.grant", "tester")]
    with pytest.raises(NotEnoughPoints):
        grant(engine, programme(), anna, -26, "too much", NOW, STAFF)


def test_every_account_equals_its_ledger_after_a_random_history(engine: Engine) -> None:
    enable(engine)
    chance = random.Random(5)
    people = [add_customer(engine) for _ in range(6)]
    orders = []
    moment = NOW - timedelta(days=500)
    for step in range(60):
        moment += timedelta(days=chance.randint(1, 15))
        who = chance.choice(people)
        action = chance.random()
        if action < 0.5:
            orders.append(add_order(engine, who, chance.randint(500, 20000), moment))
        elif action < 0.65 and orders:
            set_status(engine, chance.choice(orders), chance.choice(["refunded", "returned"]))
        elif action < 0.85:
            with contextlib.suppress(NotEnoughPoints):
                redeem(engine, programme(), who, chance.choice(["five-off", "mug"]), moment, STAFF)
        else:
            grant(engine, programme(), who, chance.randint(1, 50), f"step {step}", moment, STAFF)
        if step % 5 == 0:
            run_posting(engine, programme(), moment)

        with engine.connect() as connection:
            assert accounts_out_of_step(connection) == 0
    over = rows(
        engine,
        "SELECT COUNT(*) FROM loyalty_entries e WHERE e.points > 0 AND e.points < "
        "(SELECT COALESCE(SUM(a.points), 0) FROM loyalty_allocations a WHERE a.earn_id = e.id)",
    )
    assert over == [(0,)]
    assert rows(engine, "SELECT COUNT(*) FROM loyalty_accounts WHERE balance < 0") == [(0,)]


def test_a_merged_profiles_points_move_to_the_survivor_with_their_expiry(engine: Engine) -> None:
    # given two profiles with points, then found to be one person
    enable(engine)
    survivor = add_customer(engine)
    absorbed = add_customer(engine)
    add_order(engine, survivor, 2000, NOW - timedelta(days=10))
    refunded = add_order(engine, absorbed, 7000, NOW - timedelta(days=200))
    run_posting(engine, programme(), NOW)
    redeem(engine, programme(), absorbed, "mug", NOW, STAFF)  # 10 of the 70 spent
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE customers SET merged_into_id = :s WHERE id = :a"),
            {"s": survivor, "a": absorbed},
        )

    # when the job runs (twice)
    report = run_posting(engine, programme(), NOW)
    again = run_posting(engine, programme(), NOW)

    # then the 60 left move, keeping their expiry; nothing moves twice
    assert (report.carried_from_merged, again.carried_from_merged) == (60, 0)
    assert balance(engine, absorbed) == (0, 0)
    assert balance(engine, survivor) == (80, 80)
    expiries = rows(
        engine,
        "SELECT e.expires_at, m.expires_at FROM loyalty_entries e JOIN loyalty_entries m "
        "ON m.rule = 'merged' AND m.kind = 'earn' WHERE e.order_id = :o",
        o=refunded,
    )
    assert expiries[0][0] == expiries[0][1]
    # and a refund of the absorbed profile's order is taken back from the survivor
    set_status(engine, refunded, "refunded")
    taken = run_posting(engine, programme(), NOW)
    assert (taken.points_reversed, taken.points_short) == (70, 0)
    assert balance(engine, survivor) == (10, 10)
    with engine.connect() as connection:
        assert accounts_out_of_step(connection) == 0


def test_a_referral_bonus_is_posted_once_per_referral(engine: Engine) -> None:
    from relmark.interact.loyalty import post_referral_bonus

    enable(engine)
    anna = add_customer(engine)
    with_bonus = programme("referral_points = 250")

    with engine.begin() as connection:
        first = post_referral_bonus(connection, with_bonus, anna, "referral:7:referrer", NOW)
        again = post_referral_bonus(connection, with_bonus, anna, "referral:7:referrer", NOW)
        none = post_referral_bonus(connection, programme(), anna, "referral:8:referrer", NOW)

    assert first is not None
    assert (again, none) == (None, None)
    assert ledger(engine, anna) == [("earn", "referral", 250)]
    assert balance(engine, anna) == (250, 250)


def test_a_first_posting_expires_old_orders_points_and_their_refund_takes_nothing(
    engine: Engine,
) -> None:
    # given an order older than the expiry (12 months) and a recent one
    enable(engine)
    anna = add_customer(engine)
    old = add_order(engine, anna, 5000, NOW - timedelta(days=400))
    add_order(engine, anna, 3000, NOW - timedelta(days=10))

    # when the programme's first posting runs: the old points arrive already expired
    first = run_posting(engine, programme(), NOW)

    assert (first.points_earned, first.expired_points) == (80, 50)
    assert balance(engine, anna) == (30, 30)
    # and when the old order is refunded, its expired points are not taken again
    set_status(engine, old, "refunded")
    refund = run_posting(engine, programme(), NOW)
    assert (refund.reversed_orders, refund.points_reversed, refund.points_short) == (1, 0, 0)
    assert balance(engine, anna) == (30, 30)


def test_tiers_by_spend_count_converted_money_in_the_window(engine: Engine) -> None:
    from relmark.interact.loyalty.programme import parse_programme

    from .seed import PROGRAMME

    by_spend = parse_programme(
        PROGRAMME.replace("[tiers]\n", '[tiers]\nbasis = "spend"\n'), "spend programme"
    )
    enable(engine)
    anna = add_customer(engine)
    bert = add_customer(engine)
    add_order(engine, anna, 6000, NOW - timedelta(days=20))  # 60 EUR
    add_order(engine, anna, 10000, NOW - timedelta(days=10), currency="USD")  # 50 EUR
    add_order(engine, bert, 90000, NOW - timedelta(days=400))  # outside the 12 months
    add_order(engine, bert, 5000, NOW - timedelta(days=5))
    with engine.begin() as connection:
        kv.put_setting(
            connection, "reporting-currency", {"currency": "EUR", "rates": {"USD": "0.5"}}, NOW
        )

    run_posting(engine, by_spend, NOW)

    tiers = dict(rows(engine, "SELECT customer_id, tier FROM loyalty_accounts"))
    assert tiers == {anna: "silver", bert: "bronze"}
