"""The outbox as a list (store/message_list.py) on SQLite and PostgreSQL, and sent messages
without a stale reason (mark_sent, migration 0015)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, text

from relmark.errors import InvalidInput
from relmark.interact.delivery import SendOptions
from relmark.store.message_list import MessageFilter, list_messages

from .conftest import Inbox, Shop, book
from .outbox_seed import NEWEST_FIRST, at, seed


def keys(ids: dict[str, int], rows: list[dict]) -> list[str]:
    by_id = {v: k for k, v in ids.items()}
    return [by_id[r["id"]] for r in rows]


def listed(engine: Engine, ids: dict[str, int], **wanted: object) -> list[str]:
    with engine.connect() as connection:
        total, rows = list_messages(connection, MessageFilter(**wanted), limit=100)
    assert total == len(rows)
    return keys(ids, rows)


def test_every_message_newest_due_first_with_customer_and_plain_reason(shop: Shop) -> None:
    seeded = seed(shop)
    ids, customers = seeded["ids"], seeded["customers"]
    with shop.engine.connect() as connection:
        total, rows = list_messages(connection, MessageFilter(), limit=100)
    assert total == 7
    assert keys(ids, rows) == NEWEST_FIRST
    capped = next(r for r in rows if r["id"] == ids["m2"])
    assert capped["customer_id"] == customers["C2"]
    assert (capped["customer_name"], capped["email"]) == ("Bo", "bo@example.my")
    assert (capped["status"], capped["reason"]) == ("held", "cap_7d")
    assert capped["reason_text"] == "The customer already gets the most messages allowed in 7 days."
    assert capped["detail"] == {"in_7_days": 2}
    failed = next(r for r in rows if r["id"] == ids["m6"])
    assert (failed["attempts"], failed["last_error"]) == (3, "550 mailbox unavailable")
    sent = next(r for r in rows if r["id"] == ids["m1"])
    assert sent["sent_at"] == at(3, 9, 1)
    assert sent["due_at"] == at(3)
    assert (sent["reason"], sent["reason_text"]) == (None, None)


def test_each_filter_and_their_combination(shop: Shop) -> None:
    ids, customers = seed(shop).values()
    engine = shop.engine
    assert listed(engine, ids, playbook="thank-you") == ["m4", "m2", "m1"]
    assert listed(engine, ids, status="planned") == ["m7", "m5"]
    assert listed(engine, ids, reason="expired") == ["m4", "m3"]
    assert listed(engine, ids, status="held", reason="expired", playbook="birthday") == ["m3"]
    assert listed(engine, ids, customer_id=customers["C2"]) == ["m7", "m2", "m6"]
    assert listed(engine, ids, email="  Ana.Novak@EXAMPLE.si ") == ["m5", "m1"]
    assert listed(engine, ids, email="nobody@example.com") == []
    assert listed(engine, ids, due_from=at(4), due_to=at(6)) == ["m4", "m3", "m2"]  # inclusive
    assert listed(engine, ids, due_from=at(7, 0, 0)) == ["m7", "m5"]
    assert listed(engine, ids, sent_from=at(3), sent_to=at(3, 23)) == ["m1"]
    assert listed(engine, ids, sent_to=at(2)) == []
    assert listed(engine, ids, playbook="nope") == []


def test_pages_keep_the_order_and_the_total(shop: Shop) -> None:
    ids = seed(shop)["ids"]
    seen = []
    with shop.engine.connect() as connection:
        for offset in range(0, 8, 3):
            total, rows = list_messages(connection, MessageFilter(), limit=3, offset=offset)
            assert total == 7
            seen += keys(ids, rows)
    assert seen == NEWEST_FIRST


def test_a_window_that_ends_before_it_starts_is_refused_by_name() -> None:
    with pytest.raises(InvalidInput) as refused:
        MessageFilter(due_from=at(5), due_to=at(4), sent_from=at(2), sent_to=at(1)).checked("q")
    message = str(refused.value)
    assert "due_from (2026-05-05 09:00) is after due_to (2026-05-04 09:00)" in message
    assert "sent_from" in message
    with pytest.raises(InvalidInput, match="no status 'lost'"):
        MessageFilter(status="lost").checked()


def test_an_unknown_reason_code_is_shown_as_it_is(shop: Shop) -> None:
    ids = seed(shop)["ids"]
    with shop.engine.begin() as connection:
        connection.execute(
            text("UPDATE messages SET reason = 'made_up_later' WHERE id = :i"), {"i": ids["m7"]}
        )
        _, rows = list_messages(connection, MessageFilter(reason="made_up_later"))
    assert [(r["reason"], r["reason_text"]) for r in rows] == [("made_up_later", "made_up_later")]


PROMO = book(
    "promo",
    template="winback",
    offer={"discount_percent": 10, "code_prefix": "P"},
    trigger={"on": "order", "delay_days": 1},
)


def test_a_message_deferred_for_quiet_hours_loses_the_reason_once_sent(
    shop: Shop, inbox: tuple[Inbox, int]
) -> None:
    server, port = inbox
    shop.customers(
        [["C1", "ana@example.si", "", "Ana", "sl", "SI", "Europe/London", "", "", "yes"]]
    )
    shop.products([["TEA", "Tea", "tea", ""]])
    shop.orders([["O1", "C1", "2026-05-31T10:00:00Z", "EUR", "completed", "TEA", 1, "5"]])
    relmark = shop.interaction(
        PROMO,
        offers_on=True,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_from="Brew <hello@brew.example>",
    )
    night = datetime(2026, 6, 1, 22, 30, tzinfo=UTC)
    relmark.plan(night, night)
    [planned] = shop.messages()
    assert (planned["status"], planned["reason"]) == ("planned", "quiet_hours_deferred")

    morning = planned["due_at"] + timedelta(minutes=5)
    report = relmark.send(SendOptions(as_of=lambda: morning))

    [sent] = shop.messages()
    assert (report.sent, len(server.messages)) == (1, 1)
    assert (sent["status"], sent["reason"]) == ("sent", None)
    with shop.engine.connect() as connection:
        _, rows = list_messages(connection, MessageFilter(reason="quiet_hours_deferred"))
    assert rows == []


def test_migration_0015_clears_the_stale_reason_of_old_sent_messages(tmp_path) -> None:  # noqa: ANN001
    from alembic import command

    from relmark.store.db import make_engine
    from relmark.store.migrate import alembic_config

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    command.upgrade(alembic_config(engine), "0012")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO customers (id, created_at, updated_at) "
                "VALUES (1, '2026-05-01 00:00:00', '2026-05-01 00:00:00')"
            )
        )
        for i, (status, reason) in enumerate(
            [
                ("sent", "quiet_hours_deferred"),
                ("planned", "quiet_hours_deferred"),
                ("held", "cap_7d"),
            ]
        ):
            connection.execute(
                text(
                    "INSERT INTO messages (idempotency_key, playbook, customer_id, occasion, "
                    "channel, purpose, priority, status, reason, created_at, due_at, attempts, "
                    "rfc_message_id) VALUES (:k, 'p', 1, 'o', 'email', 'marketing', 1, :s, :r, "
                    "'2026-05-01 00:00:00', '2026-05-01 00:00:00', 0, :k)"
                ),
                {"k": f"k{i}", "s": status, "r": reason},
            )
    command.upgrade(alembic_config(engine), "0015")
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT status, reason FROM messages ORDER BY id")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [
        ("sent", None),
        ("planned", "quiet_hours_deferred"),
        ("held", "cap_7d"),
    ]


def test_utc_bounds_compare_across_offsets(shop: Shop) -> None:
    ids = seed(shop)["ids"]
    local = datetime(2026, 5, 4, 11, 0, tzinfo=timezone(timedelta(hours=2)))  # 09:00 UTC
    assert listed(shop.engine, ids, due_from=local, due_to=local) == ["m2"]
