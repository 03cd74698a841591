"""Planning against a real store (SQLite and PostgreSQL): occasions, consent, caps, the outbox."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from relmark.enums import ConsentStatus
from relmark.errors import InvalidInput
from relmark.interact.tokens import LinkClaim, LinkKind, Signer

from .conftest import SECRET, Shop, book, scores

AS_OF = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
THANKS = book("thanks", purpose="service", repeat_after_days=7)
PROMO = book(
    "promo",
    purpose="marketing",
    template="winback",
    offer={"discount_percent": 10, "code_prefix": "P"},
    trigger={"on": "order", "delay_days": 1},
)


def people(shop: Shop) -> None:
    shop.customers(
        [
            [
                "C1",
                "ana@example.com",
                "",
                "Ana",
                "en-GB",
                "GB",
                "Europe/London",
                "1990-06-02",
                "2024-06-02T10:00:00Z",
                "yes",
            ],
            [
                "C2",
                "bo@example.my",
                "",
                "Bo",
                "ms-MY",
                "MY",
                "Asia/Kuala_Lumpur",
                "",
                "",
                "withdrawn",  # an explicit opt-out; a plain "no" is only not granted
            ],
            ["C3", "cira@example.kz", "", "Cira", "kk", "KZ", "Asia/Almaty", "1985-06-02", "", ""],
            ["C4", "", "+38 050 123 4567", "Dan", "uk", "UA", "Europe/Kyiv", "", "", "yes"],
        ]
    )
    shop.products(
        [
            ["KET", "Kettle", "kitchen", "https://videos.example/kettle"],
            ["TEA", "Green tea", "tea", ""],
        ]
    )


def test_an_order_is_thanked_once_after_its_delay(shop: Shop) -> None:
    people(shop)
    shop.orders(
        [
            ["O1", "C1", "2026-05-29T10:00:00Z", "EUR", "completed", "TEA", 1, "9.50"],
            ["O2", "C2", "2026-05-20T10:00:00Z", "EUR", "completed", "TEA", 1, "9.50"],  # lapsed
            ["O3", "C3", "2026-05-31T10:00:00Z", "EUR", "completed", "TEA", 1, "9.50"],  # not yet
            ["O4", "C4", "2026-05-29T11:00:00Z", "EUR", "cancelled", "TEA", 1, "9.50"],
        ]
    )
    relmark = shop.interaction(THANKS)

    first = relmark.plan(AS_OF, AS_OF)
    second = relmark.plan(AS_OF, AS_OF)

    assert (first.candidates, first.planned) == (1, 1)
    assert (second.candidates, second.planned) == (0, 0)
    [message] = shop.messages()
    assert message["customer_id"] == shop.id_of("C1")
    assert message["status"] == "planned"
    assert message["idempotency_key"].startswith(f"thanks:{shop.id_of('C1')}:order:")
    assert message["rfc_message_id"].endswith("@relmark.invalid>")


def test_consent_address_and_restriction_are_enforced_and_recorded(shop: Shop) -> None:
    people(shop)
    shop.orders(
        [
            [f"O{c}", c, "2026-05-31T09:00:00Z", "EUR", "completed", "TEA", 1, "5"]
            for c in ("C1", "C2", "C3", "C4")
        ]
    )
    relmark = shop.interaction(PROMO, offers_on=True)
    relmark.restrict(shop.id_of("C1"), True, AS_OF)

    result = relmark.plan(AS_OF, AS_OF)

    by_customer = {m["customer_id"]: (m["status"], m["reason"]) for m in shop.messages()}
    assert by_customer == {
        shop.id_of("C1"): ("held", "restricted"),
        shop.id_of("C2"): ("held", "unsubscribed"),
        shop.id_of("C3"): ("held", "no_consent"),
        shop.id_of("C4"): ("held", "no_address"),
    }
    assert result.held == {"restricted": 1, "unsubscribed": 1, "no_consent": 1, "no_address": 1}


def test_birthdays_fall_on_the_day_in_the_customers_timezone(shop: Shop) -> None:
    people(shop)  # C1 (London) and C3 (Almaty) were born on 2 June
    birthday = book(
        "bday",
        purpose="service",
        template="birthday",
        offer={"discount_percent": 10},
        trigger={"on": "birthday", "local_hour": 9},
    )
    relmark = shop.interaction(birthday, offers_on=True)
    late_on_31_may = datetime(2026, 5, 31, 12, 0, tzinfo=UTC)
    assert relmark.plan(late_on_31_may, late_on_31_may).candidates == 0  # 2 June is far off

    evening = datetime(2026, 6, 1, 20, 0, tzinfo=UTC)  # already 2 June 01:00 in Almaty
    result = relmark.plan(evening, evening)

    due = {m["customer_id"]: m["due_at"] for m in shop.messages()}
    assert result.planned == 2
    assert due[shop.id_of("C3")] == datetime(2026, 6, 2, 4, 0, tzinfo=UTC)  # 09:00 Almaty
    assert due[shop.id_of("C1")] == datetime(2026, 6, 2, 8, 0, tzinfo=UTC)  # 09:00 London
    assert {m["occasion"] for m in shop.messages()} == {"2026"}


def test_anniversary_of_the_first_purchase(shop: Shop) -> None:
    people(shop)  # C1 is a customer since 2 June 2024
    anniversary = book(
        "anniv", purpose="service", template="anniversary", trigger={"on": "anniversary"}
    )
    relmark = shop.interaction(anniversary)
    morning = datetime(2026, 6, 2, 6, 0, tzinfo=UTC)
    result = relmark.plan(morning, morning)
    assert result.planned == 1
    assert shop.messages()[0]["customer_id"] == shop.id_of("C1")


def test_howto_follows_only_a_first_purchase_of_a_product_with_a_video(shop: Shop) -> None:
    people(shop)
    shop.orders(
        [
            ["O1", "C1", "2026-04-01T10:00:00Z", "EUR", "completed", "KET", 1, "40"],
            ["O2", "C1", "2026-05-31T10:00:00Z", "EUR", "completed", "KET", 1, "40"],  # again
            ["O3", "C2", "2026-05-31T10:00:00Z", "EUR", "completed", "KET", 1, "40"],  # first
            ["O4", "C3", "2026-05-31T10:00:00Z", "EUR", "completed", "TEA", 1, "4"],  # no video
        ]
    )
    howto = book(
        "howto",
        purpose="service",
        template="howto",
        trigger={"on": "first_purchase_with_howto", "delay_days": 1},
    )
    result = shop.interaction(howto).plan(AS_OF, AS_OF)
    [message] = shop.messages()
    assert result.planned == 1
    assert message["customer_id"] == shop.id_of("C2")
    assert message["context"]["product_id"] is not None


def test_score_triggers_use_the_latest_scores_and_respect_their_window(shop: Shop) -> None:
    people(shop)
    c1, c2, c3 = shop.id_of("C1"), shop.id_of("C2"), shop.id_of("C3")
    with shop.engine.begin() as connection:  # C3 gives consent; C2 withdrew it
        connection.execute(
            text(
                "INSERT INTO consents (customer_id, purpose, channel, status, lawful_basis, "
                "source, proof, recorded_at) VALUES (:c, 'marketing', 'email', 'granted', "
                "'consent', 'test', 'form 7', :at)"
            ),
            {
                "c": c3,
                "at": "2026-01-01 00:00:00.000000"
                if shop.engine.dialect.name == "sqlite"
                else datetime(2026, 1, 1, tzinfo=UTC),
            },
        )
    scores(
        shop.engine,
        {
            c1: {"p_alive": 0.1, "revenue_minor": 90000},
            c2: {"p_alive": 0.1, "revenue_minor": 80000},
            c3: {"p_alive": 0.9, "revenue_minor": 70000},
        },
        AS_OF,
    )
    winback = book(
        "winback",
        template="winback",
        repeat_after_days=90,
        offer={"discount_percent": 15, "code_prefix": "BACK"},
        trigger={"on": "score"},
        audience={"max_p_alive": 0.3, "revenue_top_share": 0.7},
    )
    relmark = shop.interaction(winback, offers_on=True)
    result = relmark.plan(AS_OF, AS_OF)
    assert {(m["customer_id"], m["status"], m["reason"]) for m in shop.messages()} == {
        (c1, "planned", None),
        (c2, "held", "unsubscribed"),
    }
    assert result.candidates == 2
    tomorrow = AS_OF + timedelta(days=1)
    assert relmark.plan(tomorrow, tomorrow).candidates == 0  # decided for 90 days
    later = AS_OF + timedelta(days=91)
    assert relmark.plan(later, later).candidates == 2


def test_caps_hold_across_playbooks_and_days(shop: Shop) -> None:
    people(shop)
    shop.orders([["O1", "C1", "2026-05-28T10:00:00Z", "EUR", "completed", "TEA", 1, "5"]])
    relmark = shop.interaction(
        book("a", trigger={"on": "order", "delay_days": 1, "expires_days": 5}),
        book("b", trigger={"on": "order", "delay_days": 2, "expires_days": 5}),
        book("c", trigger={"on": "order", "delay_days": 3, "expires_days": 5}),
    )
    relmark.set_policy({"max_per_7_days": 2, "min_hours_between": 24}, AS_OF)
    for day in range(4):
        moment = datetime(2026, 5, 29, 12, 0, tzinfo=UTC) + timedelta(days=day)
        relmark.plan(moment, moment)
    live = [m for m in shop.messages() if m["status"] == "planned"]
    held = [m for m in shop.messages() if m["status"] == "held"]
    assert [m["playbook"] for m in live] == ["a", "b"]
    assert {m["reason"] for m in held} == {"cap_7d"}


def test_a_message_held_for_spacing_can_go_later_while_its_occasion_lasts(shop: Shop) -> None:
    people(shop)
    shop.orders([["O1", "C1", "2026-05-30T10:00:00Z", "EUR", "completed", "TEA", 1, "5"]])
    relmark = shop.interaction(
        book("first", priority=90, trigger={"on": "order", "delay_days": 1, "expires_days": 5}),
        book("second", priority=10, trigger={"on": "order", "delay_days": 1, "expires_days": 5}),
    )
    relmark.plan(AS_OF, AS_OF)
    assert [(m["playbook"], m["reason"]) for m in shop.messages()] == [
        ("first", None),
        ("second", "spacing"),
    ]
    later = AS_OF + timedelta(days=2, hours=1)
    relmark.plan(later, later)
    statuses = [(m["playbook"], m["status"], m["reason"]) for m in shop.messages()]
    assert ("second", "planned", None) in statuses


def test_quiet_hours_defer_the_message(shop: Shop) -> None:
    people(shop)
    shop.orders([["O1", "C1", "2026-05-31T10:00:00Z", "EUR", "completed", "TEA", 1, "5"]])
    relmark = shop.interaction(PROMO, offers_on=True)
    night = datetime(2026, 6, 1, 22, 30, tzinfo=UTC)  # 23:30 in London
    result = relmark.plan(night, night)
    [message] = shop.messages()
    assert result.deferred == 1
    assert (message["status"], message["reason"]) == ("planned", "quiet_hours_deferred")
    assert message["due_at"] == datetime(2026, 6, 2, 7, 0, tzinfo=UTC)  # 08:00 London


def test_unsubscribe_holds_every_unsent_message_at_once(shop: Shop) -> None:
    people(shop)
    shop.orders([["O1", "C1", "2026-05-31T10:00:00Z", "EUR", "completed", "TEA", 1, "5"]])
    relmark = shop.interaction(
        PROMO,
        book(
            "promo2",
            template="winback",
            offer={"discount_percent": 5},
            trigger={"on": "order", "delay_days": 1},
        ),
        offers_on=True,
    )
    relmark.set_policy({"min_hours_between": 0}, AS_OF)
    relmark.plan(AS_OF, AS_OF)
    planned = [m for m in shop.messages() if m["status"] == "planned"]
    assert len(planned) == 2
    token = Signer(SECRET).sign(
        LinkClaim(LinkKind.UNSUBSCRIBE, planned[0]["id"], planned[0]["customer_id"], "marketing")
    )

    result = relmark.unsubscribe(token, AS_OF + timedelta(minutes=5))
    again = relmark.unsubscribe(token, AS_OF + timedelta(minutes=6))

    assert result["messages_held"] == 2
    assert again["messages_held"] == 0
    assert {(m["status"], m["reason"]) for m in shop.messages()} == {("held", "unsubscribed")}
    with shop.engine.connect() as connection:
        proof = connection.execute(
            text(
                "SELECT source, proof FROM consents WHERE status = 'withdrawn' "
                "AND customer_id = :c ORDER BY id"
            ),
            {"c": planned[0]["customer_id"]},
        ).one()
    assert proof[0] == "unsubscribe-link"
    assert planned[0]["rfc_message_id"] in proof[1]


def test_a_forged_unsubscribe_changes_nothing(shop: Shop) -> None:
    people(shop)
    relmark = shop.interaction(PROMO)
    forged = Signer("some-other-secret-entirely").sign(
        LinkClaim(LinkKind.UNSUBSCRIBE, 1, 1, "marketing")
    )
    with pytest.raises(Exception, match="not valid"):
        relmark.unsubscribe(forged, AS_OF)
    with shop.engine.connect() as connection:
        assert (
            connection.execute(
                text("SELECT COUNT(*) FROM consents WHERE status = 'withdrawn'")
            ).scalar_one()
            == 1
        )  # C2's own


def test_consent_granted_directly_supersedes_an_older_withdrawal(shop: Shop) -> None:
    people(shop)
    shop.orders([["O1", "C2", "2026-05-31T10:00:00Z", "EUR", "completed", "TEA", 1, "5"]])
    relmark = shop.interaction(PROMO, offers_on=True)
    relmark.record_consent(
        shop.id_of("C2"),
        purpose="marketing",
        channel="email",
        status=ConsentStatus.GRANTED,
        source="phone call",
        proof="call 2026-06-01 12:30, agent 7",
        wording_version="v3",
        now=AS_OF + timedelta(minutes=30),  # after the import that said "no"
    )
    later = AS_OF + timedelta(hours=1)
    assert relmark.plan(later, later).planned == 1


def test_unknown_or_merged_customers_are_refused(shop: Shop) -> None:
    people(shop)
    relmark = shop.interaction(PROMO)
    with pytest.raises(InvalidInput, match="no customer with id 999"):
        relmark.restrict(999, True, AS_OF)


def test_disabled_playbooks_plan_nothing(shop: Shop) -> None:
    people(shop)
    shop.orders([["O1", "C1", "2026-05-31T10:00:00Z", "EUR", "completed", "TEA", 1, "5"]])
    relmark = shop.interaction(PROMO)
    relmark.enable("promo", False, AS_OF)
    assert relmark.plan(AS_OF, AS_OF).candidates == 0
    relmark.enable("promo", True, AS_OF)
    assert relmark.plan(AS_OF, AS_OF).planned == 1


def test_concurrent_planners_never_share_a_budget(shop: Shop) -> None:
    people(shop)
    shop.orders([["O1", "C1", "2026-05-31T10:00:00Z", "EUR", "completed", "TEA", 1, "5"]])
    playbooks = [
        book(f"p{i}", priority=i, trigger={"on": "order", "delay_days": 1}) for i in range(6)
    ]
    relmark = shop.interaction(*playbooks)
    relmark.set_policy({"max_per_7_days": 1}, AS_OF)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            relmark.plan(AS_OF, AS_OF)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    live = [m for m in shop.messages() if m["status"] == "planned"]
    assert [m["playbook"] for m in live] == ["p5"]
    assert len(shop.messages()) == 6  # every candidate decided exactly once


def test_explain_message_answers_why(shop: Shop) -> None:
    people(shop)
    shop.orders([["O1", "C3", "2026-05-31T10:00:00Z", "EUR", "completed", "TEA", 1, "5"]])
    relmark = shop.interaction(PROMO, offers_on=True)
    relmark.plan(AS_OF, AS_OF)
    data = relmark.explain(shop.id_of("C3"), "promo", AS_OF, AS_OF)
    assert [(m["status"], m["reason"]) for m in data["messages"]] == [("held", "no_consent")]
    assert data["if_planned_now"][0]["status"] == "already decided"
    assert shop.messages()  # the dry run wrote nothing new
    assert len(shop.messages()) == 1
