"""No silent lapses: a plan run late (or after the engine was down) decides every occasion
that fell due in the gap — planned late within the playbook's `late_until`, else held as
`expired` — on a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from relmark.errors import InvalidInput
from relmark.interact.planner import PlanOptions, PlanResult
from relmark.interact.planner import plan as plan_stage
from relmark.interact.playbook import load_playbooks, parse_playbook
from relmark.interaction import Interaction
from relmark.store.db import bulk_transaction

from .conftest import Shop, book

D = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
#: A thank-you three days after an order, still welcome up to a week late.
THANKS = book(
    "thanks", purpose="transactional", trigger={"on": "order", "delay_days": 3, "late_until": 7}
)
#: A same-day note that is pointless two days on.
QUICK = book(
    "quick", purpose="transactional", trigger={"on": "order", "delay_days": 0, "late_until": 2}
)


def customer(external_id: str, zone: str = "Europe/London", birthday: str = "") -> list[Any]:
    email = f"{external_id.lower()}@example.com"
    return [external_id, email, "", external_id, "en-GB", "GB", zone, birthday, "", "yes"]


def order(number: int, external_customer: str, at: datetime) -> list[Any]:
    stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return [f"O{number}", external_customer, stamp, "EUR", "completed", "TEA", 1, "9.50"]


def by_order(shop: Shop, playbook: str) -> dict[int, dict[str, Any]]:
    """The outbox rows of `playbook`, by the day (D + n) of their order."""
    rows = shop.messages(f"playbook = '{playbook}'")
    days = {shop.id_of(f"C{n}"): n for n in range(1, 9)}
    return {days[r["customer_id"]]: r for r in rows}


def utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def detail(row: dict[str, Any]) -> dict[str, Any]:
    value = row["detail"]
    return json.loads(value) if isinstance(value, str) else dict(value or {})


def plan_with(
    relmark: Interaction,
    as_of: datetime,
    *,
    only_customers: Sequence[int] | None = None,
    max_catch_up_days: int = 60,
) -> PlanResult:
    """The planning stage with the options Interaction.plan does not take."""
    options = PlanOptions(
        as_of=as_of,
        now=as_of,
        playbooks=relmark.playbooks(),
        only_customers=only_customers,
        max_catch_up_days=max_catch_up_days,
    )
    with bulk_transaction(relmark.engine) as connection:
        return plan_stage(connection, options)


def eight_days_of_orders(shop: Shop) -> None:
    shop.customers([customer(f"C{n}") for n in range(1, 9)])
    shop.products([["TEA", "Green tea", "tea", ""]])
    shop.orders([order(n, f"C{n}", D + timedelta(days=n, hours=-2)) for n in range(1, 9)])


def test_orders_in_a_gap_are_planned_late_or_held_expired_never_nothing(shop: Shop) -> None:
    relmark = shop.interaction(THANKS, QUICK)
    relmark.plan(D, D)  # the last plan before the outage: nothing was due yet
    eight_days_of_orders(shop)  # orders of D+1 … D+8 arrive while nothing plans

    result = relmark.plan(D + timedelta(days=9), D + timedelta(days=9))

    as_of = D + timedelta(days=9)
    quick = by_order(shop, "quick")  # due on the order's day, at most two days late
    assert sorted(quick) == list(range(1, 9))
    for n, row in quick.items():
        fell_due = D + timedelta(days=n, hours=-2)
        late = detail(row)
        assert late["fell_due"] == fell_due.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert late["late_days"] == round((as_of - fell_due) / timedelta(days=1), 1)
        if n <= 7:  # more than two days late
            assert (row["status"], row["reason"]) == ("held", "expired")
            assert utc(row["due_at"]) == fell_due  # when it should have gone
            assert late["late_until"] == 2
        else:
            assert (row["status"], row["reason"]) == ("planned", None)
            assert utc(row["due_at"]) == as_of  # goes now, late
    thanks = by_order(shop, "thanks")  # due three days after the order, a week late at most
    assert sorted(thanks) == list(range(1, 7))  # D+7's and D+8's are not due yet
    assert {(r["status"], r["reason"]) for r in thanks.values()} == {("planned", None)}
    assert detail(thanks[1])["late_days"] == round(5 + 2 / 24, 1)
    assert result.held == {"expired": 7}

    relmark.plan(D + timedelta(days=12), D + timedelta(days=12))

    assert sorted(by_order(shop, "thanks")) == list(range(1, 9))  # every order, once
    assert len(shop.messages()) == 16


def test_past_late_until_even_a_thank_you_is_held_expired(shop: Shop) -> None:
    relmark = shop.interaction(THANKS)
    relmark.plan(D, D)
    eight_days_of_orders(shop)

    relmark.plan(D + timedelta(days=14), D + timedelta(days=14))

    thanks = by_order(shop, "thanks")
    # order of D+n fell due at D+n+3 (minus 2 h): more than 7 days before D+14 for n <= 4
    assert {n: r["reason"] for n, r in thanks.items()} == {
        n: "expired" if n <= 4 else None for n in range(1, 9)
    }


def test_a_first_plan_on_old_history_writes_no_flood_of_expired_rows(shop: Shop) -> None:
    shop.customers([customer(f"C{n}") for n in range(1, 9)])
    shop.products([["TEA", "Green tea", "tea", ""]])
    # two years of history, one order every ~90 days, the last four days ago
    shop.orders([order(n, f"C{n}", D - timedelta(days=4 + 90 * (8 - n))) for n in range(1, 9)])
    relmark = shop.interaction(THANKS, QUICK)

    result = relmark.plan(D, D)

    assert result.held == {}
    assert {(m["playbook"], m["status"]) for m in shop.messages()} == {("thanks", "planned")}
    assert len(shop.messages()) == 1  # only the order still within its late_until


def test_the_catch_up_after_a_long_outage_is_bounded(shop: Shop) -> None:
    shop.customers([customer(f"C{n}") for n in range(1, 9)])
    shop.products([["TEA", "Green tea", "tea", ""]])
    relmark = shop.interaction(QUICK)
    relmark.plan(D - timedelta(days=400), D - timedelta(days=400))
    # an order every 20 days during a 400-day outage
    shop.orders([order(n, f"C{n}", D - timedelta(days=20 * n)) for n in range(1, 9)])

    plan_with(relmark, D, max_catch_up_days=50)

    decided = by_order(shop, "quick")
    assert sorted(decided) == [1, 2]  # fell due within the last 50 days: held expired
    assert {r["reason"] for r in decided.values()} == {"expired"}


def test_a_plan_for_some_customers_decides_only_theirs_and_leaves_the_gap_open(
    shop: Shop,
) -> None:
    relmark = shop.interaction(THANKS, QUICK)
    relmark.plan(D, D)
    eight_days_of_orders(shop)
    c7, c8 = shop.id_of("C7"), shop.id_of("C8")

    partial = plan_with(relmark, D + timedelta(days=9), only_customers=[c7, c8])

    assert {m["customer_id"] for m in shop.messages()} == {c7, c8}
    # C8's quick note goes late, C7's is two days and two hours late: expired; neither's
    # thank-you is due yet
    assert (partial.planned, partial.held) == (1, {"expired": 1})
    # the whole-store plan an hour later still catches up from D, not from the partial plan
    relmark.plan(D + timedelta(days=9, hours=1), D + timedelta(days=9, hours=1))
    assert sorted(by_order(shop, "quick")) == list(range(1, 9))
    assert sorted(by_order(shop, "thanks")) == list(range(1, 7))


def test_ahead_decides_a_new_order_now_at_its_own_due_time(shop: Shop) -> None:
    relmark = shop.interaction(THANKS)
    eight_days_of_orders(shop)
    as_of = D + timedelta(days=8)
    c8 = shop.id_of("C8")

    relmark.plan(as_of, as_of, only_customers=[c8], ahead=timedelta(days=7))

    [row] = shop.messages()
    assert row["customer_id"] == c8
    assert row["status"] == "planned"
    assert utc(row["due_at"]) == D + timedelta(days=11, hours=-2)  # three days after the order


def test_a_message_planned_before_an_outage_and_never_sent_expires(shop: Shop) -> None:
    relmark = shop.interaction(THANKS)
    eight_days_of_orders(shop)
    relmark.plan(D + timedelta(days=5), D + timedelta(days=5))  # orders of D+1, D+2 are due
    assert {m["status"] for m in shop.messages()} == {"planned"}
    # nothing sends for ten days; the next plan finds them twelve days after they fell due
    later = relmark.plan(D + timedelta(days=15), D + timedelta(days=15))

    rows = by_order(shop, "thanks")
    assert (rows[1]["status"], rows[1]["reason"]) == ("held", "expired")
    assert (rows[2]["status"], rows[2]["reason"]) == ("held", "expired")
    assert later.expired_unsent == 2
    assert later.summary()["expired_unsent"] == 2
    assert later.held == {"expired": 3}  # orders of D+3 … D+5: decided now, too late
    assert {rows[n]["status"] for n in range(6, 9)} == {"planned"}  # within the week


def test_a_message_the_caps_held_keeps_its_reason_once_too_late(shop: Shop) -> None:
    shop.customers([customer("C1")])
    shop.products([["TEA", "Green tea", "tea", ""]])
    shop.orders([order(1, "C1", D - timedelta(days=2))])
    relmark = shop.interaction(
        book("first", priority=90, trigger={"on": "order", "delay_days": 1, "late_until": 2}),
        book("second", priority=10, trigger={"on": "order", "delay_days": 1, "late_until": 2}),
    )
    relmark.plan(D, D)
    assert [m["reason"] for m in shop.messages()] == [None, "spacing"]

    relmark.plan(D + timedelta(days=10), D + timedelta(days=10))

    # the caps held the second, not an outage: `expired` would blame the wrong thing (the
    # first, planned and never sent, is now too late to go: that one the outage lost)
    assert [m["reason"] for m in shop.messages()] == ["expired", "spacing"]


def birthday_people(shop: Shop) -> None:
    shop.customers(
        [
            customer("B1", "Europe/London", "1990-02-24"),  # in the gap: expired
            customer("B2", "Europe/London", "2000-02-29"),  # 28 Feb in 2027: expired
            customer("B3", "Pacific/Kiritimati", "1980-03-01"),  # yesterday there (UTC+14)
            customer("B4", "Pacific/Pago_Pago", "1980-03-01"),  # today there (UTC-11)
            customer("B5", "Europe/London", "1985-02-15"),  # before the gap: nothing
            customer("B6", "Asia/Almaty", "1975-03-02"),  # tomorrow there
            customer("B7", "Europe/London", "1970-02-20"),  # decided by the plan of 20 Feb
        ]
    )


def test_birthdays_in_a_gap_are_each_decided_in_the_customers_timezone(shop: Shop) -> None:
    birthday_people(shop)
    greeting = book(
        "bday",
        purpose="transactional",
        template="birthday",
        trigger={"on": "birthday", "late_until": 0},
    )
    relmark = shop.interaction(greeting)
    before = datetime(2027, 2, 20, 12, 0, tzinfo=UTC)
    relmark.plan(before, before)
    assert [m["customer_id"] for m in shop.messages()] == [shop.id_of("B7")]
    as_of = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)  # 2 March 02:00 in Kiritimati

    result = relmark.plan(as_of, as_of)

    rows = {m["customer_id"]: m for m in shop.messages()}
    reason = {
        e: (rows[shop.id_of(e)]["status"], rows[shop.id_of(e)]["reason"])
        for e in ("B1", "B2", "B3", "B4", "B6")
    }
    assert reason == {
        "B1": ("held", "expired"),
        "B2": ("held", "expired"),
        "B3": ("held", "expired"),
        "B4": ("planned", None),
        "B6": ("planned", None),
    }
    assert shop.id_of("B5") not in rows
    assert result.held == {"expired": 3}
    leap = rows[shop.id_of("B2")]
    assert leap["occasion"] == "2027"
    assert utc(leap["due_at"]) == datetime(2027, 2, 28, 9, 0, tzinfo=UTC)  # 09:00 in London
    kiritimati = rows[shop.id_of("B3")]
    assert utc(kiritimati["due_at"]) == datetime(2027, 2, 28, 19, 0, tzinfo=UTC)  # 1 Mar 09:00
    assert detail(kiritimati)["late_until"] == 0


def test_a_birthday_late_until_one_day_goes_out_the_day_after(shop: Shop) -> None:
    birthday_people(shop)
    greeting = book(
        "bday",
        purpose="transactional",
        template="birthday",
        trigger={"on": "birthday", "late_until": 1},
    )
    relmark = shop.interaction(greeting)
    relmark.plan(datetime(2027, 2, 20, 12, 0, tzinfo=UTC), datetime(2027, 2, 20, 12, 0, tzinfo=UTC))
    as_of = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)

    relmark.plan(as_of, as_of)

    rows = {m["customer_id"]: m for m in shop.messages()}
    kiritimati = rows[shop.id_of("B3")]
    assert kiritimati["status"] == "planned"
    # now, or rather when the quiet hours end there (it is 02:00 on 2 March in Kiritimati)
    assert as_of <= utc(kiritimati["due_at"]) < as_of + timedelta(hours=12)
    assert detail(kiritimati)["fell_due"] == "2027-02-28T19:00:00Z"
    assert rows[shop.id_of("B1")]["reason"] == "expired"


OLD_STYLE = """
name = "thanks"
title = "Thanks"
purpose = "service"
template = "thank_you"
[trigger]
on = "order"
delay_days = 3
expires_days = 5
"""


def test_late_until_defaults_and_the_old_expires_days_still_reads() -> None:
    old = parse_playbook(OLD_STYLE, "mine/thanks.toml")
    assert old.trigger.late_days == 5  # expires_days meant the same days
    plain = parse_playbook(OLD_STYLE.replace("expires_days = 5\n", ""), "mine/thanks.toml")
    assert plain.trigger.late_days == 2
    birthday = parse_playbook(
        OLD_STYLE.replace('on = "order"\ndelay_days = 3\nexpires_days = 5', 'on = "birthday"'),
        "mine/bday.toml",
    )
    assert birthday.trigger.late_days == 0  # on the day only
    shipped = {b.name: b.trigger.late_until for b in load_playbooks()}
    assert {k: shipped[k] for k in ("thank-you", "satisfaction", "howto")} == {
        "thank-you": 7,
        "satisfaction": 7,
        "howto": 14,
    }
    assert shipped["birthday"] == shipped["anniversary"] == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (OLD_STYLE + "late_until = 4\n", "expires_days was renamed late_until"),
        (OLD_STYLE.replace("expires_days = 5", "late_until = 61"), "less than or equal to 60"),
        (OLD_STYLE.replace("expires_days = 5", "late_until = -1"), "greater than or equal to 0"),
    ],
)
def test_late_until_mistakes_are_reported_with_place(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_playbook(text, "mine/thanks.toml")
    assert "mine/thanks.toml" in str(raised.value)
    assert "trigger.late_until" in str(raised.value) or "expires_days" in message
    assert message in str(raised.value)
