""" "Only on the day" means the customer's day: a birthday decided ahead whose local day
ends during an outage is held `expired` by the sender (and by the next plan), never sent the
day after; within the local day it goes, even when that is already the next day in UTC.
Customers in Asia/Almaty (UTC+5) and America/Los_Angeles (UTC-8), SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from relmark.interact.delivery import SendOptions

from .conftest import Inbox, Shop, book

GREETING = book(
    "bday",
    purpose="transactional",
    template="anniversary",
    trigger={"on": "birthday", "late_until": 0},
)
#: The evening before in Almaty (20:30 on 9 March), the morning before in Los Angeles.
PLANNED = datetime(2027, 3, 9, 15, 30, tzinfo=UTC)


def people(shop: Shop) -> None:
    shop.customers(
        [
            [
                "A",
                "a@example.kz",
                "",
                "Aigerim",
                "kk",
                "KZ",
                "Asia/Almaty",
                "1990-03-10",
                "2020-01-05",
                "yes",
            ],
            [
                "L",
                "l@example.com",
                "",
                "Lee",
                "en",
                "US",
                "America/Los_Angeles",
                "1985-03-10",
                "2020-01-05",
                "yes",
            ],
        ]
    )


def planned(shop: Shop, port: int):  # noqa: ANN201
    people(shop)
    relmark = shop.interaction(GREETING, smtp_host="127.0.0.1", smtp_port=port)
    result = relmark.plan(PLANNED, PLANNED)
    assert result.planned == 2  # both decided ahead, due at 09:00 on the 10th, their time
    rows = {m["customer_id"]: m for m in shop.messages()}
    almaty, angeles = rows[shop.id_of("A")], rows[shop.id_of("L")]
    assert _utc(almaty["due_at"]) == datetime(2027, 3, 10, 4, 0, tzinfo=UTC)
    assert _utc(angeles["due_at"]) == datetime(2027, 3, 10, 17, 0, tzinfo=UTC)
    # the end of the 10th, locally
    assert _utc(almaty["expires_at"]) == datetime(2027, 3, 10, 19, 0, tzinfo=UTC)
    assert _utc(angeles["expires_at"]) == datetime(2027, 3, 11, 8, 0, tzinfo=UTC)
    return relmark


def outcome(shop: Shop) -> dict[str, tuple[str, str | None]]:
    rows = {m["customer_id"]: m for m in shop.messages()}
    ids = {shop.id_of(e): e for e in "AL"}
    return {ids[c]: (m["status"], m["reason"]) for c, m in rows.items()}


def send_at(relmark, moment: datetime):  # noqa: ANN001, ANN201
    return relmark.send(SendOptions(as_of=lambda: moment))


def test_within_the_local_day_it_goes_even_on_the_next_utc_day(
    shop: Shop, inbox: tuple[Inbox, int]
) -> None:
    server, port = inbox
    relmark = planned(shop, port)

    # 18:00 on the 10th in Almaty; 18:00 on the 10th in Los Angeles is 02:00 on the 11th UTC
    first = send_at(relmark, datetime(2027, 3, 10, 13, 0, tzinfo=UTC))
    second = send_at(relmark, datetime(2027, 3, 11, 2, 0, tzinfo=UTC))

    assert (first.sent, second.sent, first.expired + second.expired) == (1, 1, 0)
    assert outcome(shop) == {"A": ("sent", None), "L": ("sent", None)}
    assert len(server.messages) == 2


def test_after_an_outage_past_the_local_day_the_sender_holds_it_expired(
    shop: Shop, inbox: tuple[Inbox, int]
) -> None:
    server, port = inbox
    relmark = planned(shop, port)

    # the engine was down all through the 10th; it comes back at 11:00 on the 11th in
    # Almaty (22:00 on the 10th in Los Angeles: still her day, but quiet hours) ...
    back = send_at(relmark, datetime(2027, 3, 11, 6, 0, tzinfo=UTC))
    assert (back.sent, back.expired, back.quiet) == (0, 1, 1)
    assert outcome(shop) == {"A": ("held", "expired"), "L": ("planned", None)}
    # ... and Los Angeles wakes up on the 11th: her day is over too
    later = send_at(relmark, datetime(2027, 3, 11, 18, 0, tzinfo=UTC))

    assert (later.sent, later.expired) == (0, 1)
    assert outcome(shop) == {"A": ("held", "expired"), "L": ("held", "expired")}
    assert server.messages == []


def test_the_next_plan_holds_what_the_local_day_left_unsent(
    shop: Shop, inbox: tuple[Inbox, int]
) -> None:
    _, port = inbox
    relmark = planned(shop, port)
    # 01:00 on the 11th in Almaty, 12:00 on the 10th in Los Angeles: only one day is over
    moment = datetime(2027, 3, 10, 20, 0, tzinfo=UTC)

    result = relmark.plan(moment, moment)

    assert result.expired_unsent == 1
    assert outcome(shop) == {"A": ("held", "expired"), "L": ("planned", None)}


def test_a_birthday_the_quiet_hours_would_push_into_the_next_day_is_held_expired(
    shop: Shop, inbox: tuple[Inbox, int]
) -> None:
    _, port = inbox
    people(shop)
    relmark = shop.interaction(GREETING, smtp_host="127.0.0.1", smtp_port=port)
    # the first plan ever runs at 22:30 on the 10th in Los Angeles: quiet until 08:00 on
    # the 11th, a day too late for "only on the day"
    moment = datetime(2027, 3, 11, 6, 30, tzinfo=UTC)

    result = relmark.plan(moment, moment)

    assert outcome(shop) == {"L": ("held", "expired")}  # Almaty's day ended before any plan
    assert result.planned == 0


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_an_order_message_keeps_its_deadline_in_days_after_it_fell_due(shop: Shop) -> None:
    from .test_lapses import THANKS, customer, order

    shop.customers([customer("C1")])
    shop.products([["TEA", "Green tea", "tea", ""]])
    ordered = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    shop.orders([order(1, "C1", ordered)])
    relmark = shop.interaction(THANKS)
    relmark.plan(ordered + timedelta(minutes=5), ordered, ahead=timedelta(days=3))

    [row] = shop.messages()
    # due three days on, welcome up to seven days after that
    assert _utc(row["expires_at"]) == ordered + timedelta(days=10)
