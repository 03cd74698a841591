"""Erasure, proven on a whole store: after erasing a merged customer who received messages,
a generic dump of every table holds none of their e-mail, phone or name, revenue and the
model's input are unchanged, and the same person imported again comes back restricted."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email import policy
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import JSON, Engine, String, Text, inspect, select, text

from relmark import erasing, pipeline
from relmark.differentiate.summary import rfm_summary
from relmark.ingest import tracking, tracking_effects
from relmark.interact.delivery import SendOptions
from relmark.store import audit, rectification, scores
from relmark.store.audit import Actor
from relmark.store.models import Customer

from ..helpers import rows, run_import, write_csv
from ..interact.conftest import Inbox, Shop, book

AS_OF = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
LATER = datetime(2026, 6, 2, 9, 0, tzinfo=UTC)
HEADER = ["customer_id", "email", "phone", "first_name", "last_name", "language", "country"]
HEADER += ["birthday", "email_consent"]
PERSON = {
    "email": "zephyrine.quill@example.si",
    "phone": "+386 31 777 001",
    "phone_e164": "+38631777001",
    "first": "Zephyrine",
    "last": "Quillfeather",
}
SECRETS = [
    PERSON["email"],
    PERSON["phone"],
    PERSON["phone_e164"],
    PERSON["first"],
    PERSON["last"],
]
CUSTOMERS = [
    ["C1", PERSON["email"], PERSON["phone"], "Zephyrine", "Quillfeather", "sl", "SI", "", "yes"],
    # the same person in a second row of the shop (another account), with different case
    ["C2", PERSON["email"].upper(), "", "Zephyrine", "", "sl", "SI", "1990-02-03", "yes"],
    [
        "C3",
        "other.person@example.si",
        "+386 31 555 444",
        "Marjetka",
        "Novak",
        "sl",
        "SI",
        "",
        "yes",
    ],
]
THANKS = book("thanks", purpose="service", trigger={"on": "order", "delay_days": 1})


def import_shop(shop: Shop) -> None:
    path = write_csv(shop.folder, "people.csv", HEADER, CUSTOMERS)
    run_import(shop.engine, "customers", path)
    # a second file with one bad row of the person: its rejects file holds their e-mail
    bad = [["C9", PERSON["email"], PERSON["phone"], "Zephyrine", "Quillfeather", "sl", "SI"]]
    bad[0] += ["not a date", "yes"]
    bad.append(["C5", "fifth@example.si", "", "Tina", "Kos", "sl", "SI", "31.02.", "yes"])
    # someone else who shares the first name only: their row stays
    bad.append(["C6", "sixth@example.si", "", "Zephyrine", "Kos", "sl", "SI", "1.1.", "yes"])
    good = [["C4", "fourth@example.si", "", "Tina", "Kos", "sl", "SI", "", "yes"]]
    run_import(
        shop.engine, "customers", write_csv(shop.folder, "more.csv", HEADER, bad + good),
        skip_invalid=True,
    )  # fmt: skip
    shop.products([["TEA", "Zeleni čaj", "tea", ""]])
    shop.orders(
        [
            ["O1", "C1", "2026-03-02T09:00:00Z", "EUR", "completed", "TEA", 2, "4.20"],
            ["O2", "C1", "2026-05-31T09:00:00Z", "EUR", "completed", "TEA", 1, "4.20"],
            ["O3", "C2", "2026-05-31T10:00:00Z", "EUR", "completed", "TEA", 3, "4.20"],
            ["O4", "C3", "2026-05-31T11:00:00Z", "EUR", "completed", "TEA", 1, "4.20"],
        ]
    )


def send_and_unsubscribe(shop: Shop, server: Inbox, port: int) -> None:
    relmark = shop.interaction(THANKS, smtp_host="127.0.0.1", smtp_port=port)
    relmark.plan(AS_OF, AS_OF)
    assert relmark.send(SendOptions(as_of=lambda: AS_OF)).sent == 3
    mail = next(
        m
        for m in (email.message_from_bytes(raw, policy=policy.default) for raw in server.messages)
        if str(m["To"]).casefold() == PERSON["email"]
    )
    token = str(mail["List-Unsubscribe"]).split(",")[0].strip(" <>").rsplit("/", 1)[1]
    relmark.unsubscribe(token, AS_OF)


def track_the_person(engine: Engine) -> None:
    payload = {
        "batch": [
            {
                "type": "identify",
                "userId": "web-zq",
                "messageId": "m-1",
                "traits": {"email": PERSON["email"], "name": "Zephyrine Quillfeather"},
            },
            {
                "type": "track",
                "userId": "web-zq",
                "event": "Viewed",
                "messageId": "m-2",
                "properties": {"email": PERSON["email"], "note": "Zephyrine"},
            },
        ]
    }
    with engine.begin() as connection:
        tracking_effects.store(
            connection, tracking.parse(payload, None, currency="EUR", now=AS_OF), AS_OF
        )


def add_listening(engine: Engine, customer_id: int) -> None:
    """Mentions and support contacts are written by the demo only: rows as it writes them."""
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO mentions (platform, author_handle, customer_id, language, text, "
                "posted_at) VALUES ('x', '@zephyrine_q', :c, 'sl', :t, :at)"
            ),
            {"c": customer_id, "t": f"Pišite mi na {PERSON['email']}", "at": AS_OF},
        )
        connection.execute(
            text(
                "INSERT INTO support_contacts (customer_id, at, channel, reason, minutes) "
                "VALUES (:c, :at, 'email', 'Zephyrine asked about delivery', 12)"
            ),
            {"c": customer_id, "at": AS_OF},
        )


def dump(engine: Engine) -> str:
    """Every text and JSON value of every table, read generically."""
    found = []
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            columns = [
                c["name"]
                for c in inspect(engine).get_columns(table)
                if isinstance(c["type"], String | Text | JSON) or "JSON" in str(c["type"])
            ]
            if not columns:
                continue
            names = ", ".join(f'"{c}"' for c in columns)
            for row in connection.execute(text(f'SELECT {names} FROM "{table}"')):
                found += [f"{table}: {value}" for value in row if value is not None]
    return "\n".join(found)


def model_input(engine: Engine) -> tuple[int, pl.DataFrame]:
    with engine.connect() as connection:
        orders = scores.scoring_orders(connection, AS_OF)
    revenue = int(orders["amount_minor"].sum())
    summary = rfm_summary(
        orders.select(
            "customer_id", pl.col("ordered_at").alias("timestamp"), pl.col("amount_minor") / 100
        ).rename({"amount_minor": "amount"}),
        as_of=AS_OF,
    )
    return revenue, summary.sort("customer_id")


def person_id(engine: Engine) -> int:
    [(customer_id,)] = rows(
        engine, "SELECT customer_id FROM source_records WHERE external_id = 'C1'"
    )
    return int(customer_id)


def test_erasing_a_merged_customer_leaves_no_trace_and_the_same_revenue(
    shop: Shop,
    inbox: tuple[Inbox, int],
) -> None:
    # given a store where one person has two merged profiles, messages, an unsubscribe,
    # tracking calls, a mention, a support contact and a row in a rejects file
    server, port = inbox
    import_shop(shop)
    send_and_unsubscribe(shop, server, port)
    pipeline.identify(shop.engine, now=AS_OF, probabilistic=False)
    track_the_person(shop.engine)
    pipeline.identify(shop.engine, now=AS_OF, probabilistic=False)
    survivor = person_id(shop.engine)
    add_listening(shop.engine, survivor)
    profiles = rows(shop.engine, "SELECT id FROM customers WHERE merged_into_id = :s", s=survivor)
    assert len(profiles) == 2  # C2 and the tracked user were merged into C1's profile
    with shop.engine.begin() as connection:  # a correction pins a value over the sources
        rectification.rectify(
            connection, survivor, {"last_name": "Zakrajšek-Rectified"}, Actor.cli(), AS_OF
        )
    before = dump(shop.engine)
    assert all(s.casefold() in before.casefold() for s in (*SECRETS, "Zakrajšek-Rectified"))
    rejects = Path(f"{shop.folder / 'more.csv'}.rejects.csv")
    assert PERSON["email"] in rejects.read_text()
    revenue, summary = model_input(shop.engine)

    # when the person is erased, named by e-mail
    customer_id = erasing.find(shop.engine, PERSON["email"].upper())
    done = erasing.erase(
        shop.engine, customer_id, actor=Actor.cli(), reason="asked by e-mail", now=LATER
    )

    # then no table holds their e-mail, phone or name, nor does the rejects file
    after = dump(shop.engine).casefold()
    leaks = [s for s in (*SECRETS, "Zakrajšek-Rectified") if s.casefold() in after]
    assert leaks == [], [
        line for line in after.splitlines() if any(s.casefold() in line for s in leaks)
    ]
    assert PERSON["email"] not in rejects.read_text().casefold()
    assert "fifth@example.si" in rejects.read_text()  # other people's rows stay
    assert "sixth@example.si" in rejects.read_text()
    assert done["files_cleaned"] == 1
    # and the other customer is untouched
    assert "other.person@example.si" in after
    assert "marjetka" in after
    # and revenue and the model's input are unchanged
    assert model_input(shop.engine)[0] == revenue
    assert model_input(shop.engine)[1].equals(summary)
    # and the act is in the audit trail with counts per table, never the values
    with shop.engine.connect() as connection:
        [entry] = [
            e
            for e in audit.entries(connection, customer_id=survivor)
            if e["action"] == "privacy.erase"
        ]
    assert entry["detail"]["counts"]["customers"] == 3
    # one e-mail, one phone and its 7-digit tail (the prefilter imports use)
    assert entry["detail"]["counts"]["suppressions"] == 3
    assert entry["detail"]["reason"] == "asked by e-mail"
    assert sorted(entry["detail"]["profiles"]) == sorted([survivor, *(p for (p,) in profiles)])
    with shop.engine.connect() as connection:
        shells = connection.execute(
            select(Customer.erased_at, Customer.restricted_at).where(
                Customer.id.in_(entry["detail"]["profiles"])
            )
        ).all()
    assert all(erased and restricted for erased, restricted in shells)


def test_the_same_person_imported_again_comes_back_restricted_with_the_reason(
    shop: Shop,
) -> None:
    # given an erased customer
    import_shop(shop)
    pipeline.identify(shop.engine, now=AS_OF, probabilistic=False)
    erasing.erase(
        shop.engine, person_id(shop.engine), actor=Actor.cli(), reason="request", now=LATER
    )

    # when the same customer file is imported again
    report = run_import(
        shop.engine, "customers", write_csv(shop.folder, "people.csv", HEADER, CUSTOMERS)
    )

    # then the person's profiles come back restricted, and say why; the others do not
    assert report.counts["restricted_as_erased"] == 2
    back = rows(
        shop.engine,
        "SELECT sr.external_id, c.restricted_at IS NOT NULL FROM source_records sr "
        "JOIN customers c ON c.id = sr.customer_id WHERE sr.external_id IN ('C1', 'C2', 'C3') "
        "ORDER BY sr.external_id",
    )
    assert back == [("C1", True), ("C2", True), ("C3", False)]
    reasons = rows(
        shop.engine,
        "SELECT sr.external_id, e.kind FROM customer_events e JOIN source_records sr "
        "ON sr.customer_id = e.customer_id WHERE e.kind = 'customer_suppressed' "
        "ORDER BY sr.external_id",
    )
    assert reasons == [("C1", "customer_suppressed"), ("C2", "customer_suppressed")]
    with shop.engine.connect() as connection:
        said = connection.execute(
            text("SELECT parameters FROM customer_events WHERE kind = 'customer_suppressed'")
        ).scalars()
        assert {_json(p)["reason"] for p in said} == {
            "the e-mail of an erased customer came back: created restricted"
        }


def test_a_tracking_call_with_an_erased_email_restricts_the_profile(
    shop: Shop,
) -> None:
    # given an erased customer
    import_shop(shop)
    erasing.erase(
        shop.engine, person_id(shop.engine), actor=Actor.cli(), reason="request", now=LATER
    )

    # when the tracking endpoint identifies a new user with their e-mail
    track_the_person(shop.engine)

    # then that profile is restricted, with the reason
    [(restricted, kind)] = rows(
        shop.engine,
        "SELECT c.restricted_at IS NOT NULL, e.kind FROM source_records sr JOIN customers c "
        "ON c.id = sr.customer_id JOIN customer_events e ON e.customer_id = c.id "
        "AND e.kind = 'customer_suppressed' WHERE sr.external_id = 'web-zq'",
    )
    assert restricted
    assert kind == "customer_suppressed"


def _json(value: Any) -> dict[str, Any]:
    import json

    return value if isinstance(value, dict) else json.loads(value)


def test_a_phone_typed_another_way_is_still_recognised(shop: Shop) -> None:
    # given an erased customer known by phone only, in international form
    header = ["customer_id", "phone", "first_name", "country"]
    first = [["P1", "+386 31 777 001", "Zephyrine", "SI"], ["P2", "+386 41 222 333", "Ana", "SI"]]
    run_import(shop.engine, "customers", write_csv(shop.folder, "p.csv", header, first))
    erasing.erase(shop.engine, shop.id_of("P1"), actor=Actor.cli(), reason="request", now=LATER)

    # when another source brings the number in national form, with an extension
    again = [["Q1", "031 777-001 ext. 12", "Z.", "SI"], ["Q2", "031 777 002", "Bor", "SI"]]
    report = run_import(
        shop.engine, "customers", write_csv(shop.folder, "q.csv", header, again), source="pos"
    )

    # then only that profile is restricted
    assert report.counts["restricted_as_erased"] == 1
    restricted = rows(
        shop.engine,
        "SELECT sr.external_id FROM source_records sr JOIN customers c ON c.id = sr.customer_id "
        "WHERE c.restricted_at IS NOT NULL AND c.erased_at IS NULL",
    )
    assert restricted == [("Q1",)]
