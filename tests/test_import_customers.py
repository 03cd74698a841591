"""Importing customers: synonyms, typing, consent, idempotence, partial updates."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from .helpers import count, rows, run_import, write_csv

HEADER = [
    "id",
    "E-mail",
    "first_name",
    "surname",
    "country",
    "language",
    "birthday",
    "created_at",
    "accepts_marketing",
    "timezone",
]
ROWS = [
    [
        "C1",
        "ana@example.si",
        "Ana",
        "Novak",
        "SI",
        "sl",
        "1990-04-02",
        "2023-01-05",
        "yes",
        "Europe/Ljubljana",
    ],
    [
        "C2",
        "aigerim@example.kz",
        "Айгерім",
        "Сейітова",
        "Kazakhstan",
        "kk_kz",
        "1985-12-31",
        "2023-02-01T10:00:00+05:00",
        "no",
        "Asia/Almaty",
    ],
    ["C3", "", "Juan", "dela Cruz", "ph", "tl", "", "", "", ""],
]


def test_customers_are_created_with_typed_profiles(engine: Engine, tmp_path) -> None:
    path = write_csv(tmp_path, "customers.csv", HEADER, ROWS)

    report = run_import(engine, "customers", path, source="web")

    assert report.counts == {"inserted": 3, "updated": 0, "unchanged": 0, "consents_recorded": 2}
    profiles = rows(
        engine,
        "SELECT first_name, last_name, email, country, language, birthday, "
        "timezone FROM customers ORDER BY id",
    )
    assert profiles[0][:5] == ("Ana", "Novak", "ana@example.si", "SI", "sl")
    assert profiles[1][3:5] == ("KZ", "kk-KZ")
    assert str(profiles[1][5]) == str(date(1985, 12, 31))
    assert profiles[2][2] is None
    assert profiles[2][3] == "PH"
    assert rows(engine, "SELECT source, external_id FROM source_records ORDER BY id") == [
        ("web", "C1"),
        ("web", "C2"),
        ("web", "C3"),
    ]


def test_customer_since_offset_is_converted_to_utc(engine: Engine, tmp_path) -> None:
    path = write_csv(tmp_path, "customers.csv", HEADER, ROWS)
    run_import(engine, "customers", path)

    with engine.connect() as connection:
        from sqlalchemy import select

        from relmark.store.models import Customer

        since = (
            connection.execute(select(Customer.customer_since).order_by(Customer.id))
            .scalars()
            .all()
        )
    assert since[1].isoformat() == "2023-02-01T05:00:00+00:00"
    assert since[0].isoformat() == "2023-01-05T00:00:00+00:00"


def test_reimport_changes_nothing(engine: Engine, tmp_path) -> None:
    path = write_csv(tmp_path, "customers.csv", HEADER, ROWS)
    run_import(engine, "customers", path)
    events = count(engine, "customer_events")

    again = run_import(engine, "customers", path)

    assert again.counts == {"inserted": 0, "updated": 0, "unchanged": 3, "consents_recorded": 0}
    assert count(engine, "customers") == 3
    assert count(engine, "consents") == 2
    assert count(engine, "customer_events") == events


def test_changed_rows_update_only_the_columns_in_the_file(engine: Engine, tmp_path) -> None:
    run_import(engine, "customers", write_csv(tmp_path, "a.csv", HEADER, ROWS))
    update = write_csv(
        tmp_path,
        "b.csv",
        ["customer_id", "email"],
        [["C1", "ana.novak@example.si"], ["C2", "aigerim@example.kz"]],
    )

    report = run_import(engine, "customers", update)

    assert report.counts == {"inserted": 0, "updated": 1, "unchanged": 1}
    assert rows(engine, "SELECT email, first_name FROM customers WHERE id = 1") == [
        ("ana.novak@example.si", "Ana")
    ]
    kinds = rows(engine, "SELECT kind FROM customer_events WHERE customer_id = 1 ORDER BY id")
    assert [k for (k,) in kinds] == ["customer_created", "consent_recorded", "customer_updated"]


def test_withdrawn_consent_is_a_new_statement_with_proof(engine: Engine, tmp_path) -> None:
    run_import(engine, "customers", write_csv(tmp_path, "a.csv", HEADER, ROWS))
    withdraw = write_csv(tmp_path, "b.csv", ["customer_id", "email_consent"], [["C1", "no"]])

    report = run_import(engine, "customers", withdraw)

    assert report.counts["consents_recorded"] == 1
    statements = rows(
        engine, "SELECT status, lawful_basis, proof FROM consents WHERE customer_id = 1 ORDER BY id"
    )
    assert [s[0] for s in statements] == ["granted", "withdrawn"]
    assert statements[1][2].endswith("b.csv:2")


def test_same_external_id_in_two_sources_is_two_records(engine: Engine, tmp_path) -> None:
    path = write_csv(tmp_path, "c.csv", ["customer_id", "email"], [["1", "a@example.com"]])

    run_import(engine, "customers", path, source="web")
    run_import(engine, "customers", path, source="shop")

    assert count(engine, "source_records") == 2
    assert count(engine, "customers") == 2


def test_customers_without_email_or_phone_are_valid(engine: Engine, tmp_path) -> None:
    path = write_csv(tmp_path, "c.csv", ["customer_id", "first_name"], [["counter-7", "Mira"]])

    report = run_import(engine, "customers", path)

    assert report.counts["inserted"] == 1


def test_extra_columns_can_be_kept_as_attributes(engine: Engine, tmp_path) -> None:
    path = write_csv(tmp_path, "c.csv", ["customer_id", "shoe size", "vip"], [["C1", "42", "yes"]])

    run_import(engine, "customers", path, extra="attributes")

    with engine.connect() as connection:
        from sqlalchemy import select

        from relmark.store.models import Customer

        attributes = connection.execute(select(Customer.attributes)).scalar_one()
    assert attributes == {"shoe size": "42", "vip": "yes"}


def test_map_option_takes_a_field_from_a_named_column(engine: Engine, tmp_path) -> None:
    path = write_csv(tmp_path, "c.csv", ["Kundennummer", "Mail"], [["K1", "k@example.de"]])

    run_import(engine, "customers", path, mapping=["customer_id=Kundennummer", "email=Mail"])

    assert rows(engine, "SELECT external_id, email FROM source_records") == [("K1", "k@example.de")]
