"""Restriction of processing (GDPR art. 18) in the interact stage: storage only.

A restricted customer gets no message of any purpose (marketing, service such as thanks and
satisfaction follow-ups, and transactional), whether the restriction came before the plan or
between the plan and the send; restricting and lifting leave an event and an audit entry.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from relmark import pipeline
from relmark.interact.delivery import SendOptions
from relmark.store.audit import Actor, entries

from ..helpers import run_import, write_csv
from .conftest import Inbox, Shop, book

AS_OF = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
THANKS = book("thanks", purpose="service", trigger={"on": "order", "delay_days": 1})
SATISFACTION = book(
    "satisfaction",
    purpose="service",
    template="satisfaction",
    trigger={"on": "order", "delay_days": 1},
)
RECEIPT = book("receipt", purpose="transactional", trigger={"on": "order", "delay_days": 1})
PROMO = book("promo", template="winback", trigger={"on": "order", "delay_days": 1})


def two_buyers(shop: Shop) -> tuple[int, int]:
    shop.customers(
        [
            ["R1", "ana@example.si", "", "Ana", "sl", "SI", "Europe/Ljubljana", "", "", "yes"],
            ["R2", "bo@example.my", "", "Bo", "ms", "MY", "Asia/Kuala_Lumpur", "", "", "yes"],
        ]
    )
    shop.products([["TEA", "Tea", "tea", ""]])
    shop.orders(
        [
            ["O1", "R1", "2026-05-31T09:00:00Z", "EUR", "completed", "TEA", 1, "5"],
            ["O2", "R2", "2026-05-31T09:00:00Z", "EUR", "completed", "TEA", 1, "5"],
        ]
    )
    return shop.id_of("R1"), shop.id_of("R2")


def test_a_restricted_customer_gets_no_message_of_any_purpose(shop: Shop) -> None:
    # given two buyers, one of whom restricted processing, and playbooks of every purpose
    restricted, other = two_buyers(shop)
    relmark = shop.interaction(THANKS, SATISFACTION, RECEIPT, PROMO)
    relmark.restrict(restricted, True, AS_OF, reason="contests the address")

    # when the day is planned
    result = relmark.plan(AS_OF, AS_OF)

    # then every message to the restricted customer is held as restricted, transactional
    # included (storage only), while the other customer's are decided as usual (the
    # receipt planned; the rest may meet the contact caps)
    mine = {
        (m["playbook"], m["status"], m["reason"])
        for m in shop.messages(f"customer_id = {restricted}")
    }
    assert mine == {
        ("thanks", "held", "restricted"),
        ("satisfaction", "held", "restricted"),
        ("receipt", "held", "restricted"),
        ("promo", "held", "restricted"),
    }
    theirs = {
        m["playbook"]: (m["status"], m["reason"]) for m in shop.messages(f"customer_id = {other}")
    }
    assert theirs["receipt"] == ("planned", None)
    assert all(reason != "restricted" for _status, reason in theirs.values())
    assert result.held["restricted"] == 4


def test_restricting_holds_what_was_planned_and_lifting_lets_the_next_plan_decide(
    shop: Shop,
) -> None:
    # given a planned transactional message and a planned thank-you
    restricted, _other = two_buyers(shop)
    relmark = shop.interaction(THANKS, RECEIPT)
    relmark.plan(AS_OF, AS_OF)

    # when the customer restricts processing, then lifts it
    done = relmark.restrict(restricted, True, AS_OF, actor=Actor("user", "ana@shop.example"))
    held = {
        m["playbook"]: (m["status"], m["reason"])
        for m in shop.messages(f"customer_id = {restricted}")
    }
    lifted = relmark.restrict(restricted, False, AS_OF, reason=None)

    # then both were held at once, and the acts are on the timeline and in the audit trail
    assert done["messages_held"] == 2
    assert held == {"thanks": ("held", "restricted"), "receipt": ("held", "restricted")}
    assert lifted["restricted"] is False
    with shop.engine.connect() as connection:
        kinds = [
            k
            for (k,) in connection.execute(
                text(
                    "SELECT kind FROM customer_events WHERE customer_id = :c "
                    "AND kind LIKE '%restrict%' ORDER BY id"
                ),
                {"c": restricted},
            )
        ]
        trail = entries(connection, customer_id=restricted)
        since = connection.execute(
            text("SELECT restricted_at FROM customers WHERE id = :c"), {"c": restricted}
        ).scalar_one()
    assert kinds == ["processing_restricted", "restriction_lifted"]
    assert [(e["action"], e["actor_kind"], e["actor"]) for e in reversed(trail)] == [
        ("customer.restrict", "user", "ana@shop.example"),
        ("customer.restrict_lift", "engine", "relmark run"),
    ]
    assert since is None


def test_a_profile_restricted_after_planning_is_not_sent_to(
    shop: Shop, inbox: tuple[Inbox, int]
) -> None:
    # given planned thank-yous for two customers
    server, port = inbox
    restricted, _other = two_buyers(shop)
    relmark = shop.interaction(THANKS, smtp_host="127.0.0.1", smtp_port=port)
    relmark.plan(AS_OF, AS_OF)

    # when one profile becomes restricted outside `restrict` (as a suppressed re-import
    # does) and the sender runs
    with shop.engine.begin() as connection:
        connection.execute(
            text("UPDATE customers SET restricted_at = :t WHERE id = :c"),
            {"t": AS_OF.replace(tzinfo=None), "c": restricted},
        )
    report = relmark.send(SendOptions(as_of=lambda: AS_OF.replace(day=2)))

    # then only the other customer's message arrives; the restricted one is held
    assert report.sent == 1
    assert len(server.messages) == 1
    assert b"bo@example.my" in server.messages[0]
    [held] = shop.messages(f"customer_id = {restricted}")
    assert (held["status"], held["reason"]) == ("held", "restricted")


def test_a_restriction_survives_a_merge(shop: Shop) -> None:
    # given two profiles of one person (same e-mail, two sources), both with a planned
    # thank-you, and the newer profile restricted
    header = ["customer_id", "email", "first_name", "language", "country"]
    for source, external in (("web", "M1"), ("shop", "M2")):
        run_import(
            shop.engine,
            "customers",
            write_csv(
                shop.folder,
                f"{source}.csv",
                header,
                [[external, "mia@example.si", "Mia", "sl", "SI"]],
            ),
            source=source,
        )
        shop.products([["TEA", "Tea", "tea", ""]])
        run_import(
            shop.engine,
            "orders",
            write_csv(
                shop.folder,
                f"{source}-o.csv",
                [
                    "order_id",
                    "customer_id",
                    "ordered_at",
                    "currency",
                    "status",
                    "sku",
                    "quantity",
                    "unit_price",
                ],
                [
                    [
                        f"O-{external}",
                        external,
                        "2026-05-31T09:00:00Z",
                        "EUR",
                        "completed",
                        "TEA",
                        1,
                        "5",
                    ]
                ],
            ),
            source=source,
        )
    older, newer = shop.id_of("M1"), shop.id_of("M2")
    relmark = shop.interaction(THANKS)
    relmark.plan(AS_OF, AS_OF)
    relmark.restrict(newer, True, AS_OF, reason="asked in the shop")

    # when identity resolution merges them
    pipeline.identify(shop.engine, now=AS_OF)

    # then the surviving profile is restricted and nothing planned is left for it
    with shop.engine.connect() as connection:
        merged_into = connection.execute(
            text("SELECT merged_into_id FROM customers WHERE id = :c"), {"c": newer}
        ).scalar_one()
        since = connection.execute(
            text("SELECT restricted_at FROM customers WHERE id = :c"), {"c": older}
        ).scalar_one()
    assert merged_into == older
    assert since is not None
    assert {(m["status"], m["reason"]) for m in shop.messages(f"customer_id = {older}")} == {
        ("held", "restricted")
    }
    relmark.plan(AS_OF, AS_OF)
    assert not shop.messages(f"customer_id = {older} AND status = 'planned'")
