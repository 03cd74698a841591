"""What a source's consent answer means (issue 12): "accepts marketing = no" is a box not
ticked, never a withdrawal; a record that said yes and now says no did withdraw; the
statement's time is the source's own when the file has one."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, select

from relmark import pipeline
from relmark.config import Settings
from relmark.interaction import Interaction
from relmark.store.identity import effective_consents
from relmark.store.models import Consent

from .helpers import rows, run_import, write_csv

HEADER = ["customer_id", "email", "first_name", "email_consent"]
SHOPIFY = [
    "Name",
    "Email",
    "Financial Status",
    "Accepts Email Marketing",
    "Email Marketing Consent Updated At",
    "Currency",
    "Total",
    "Created at",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
    "Lineitem sku",
    "Billing Name",
]


def shopify(tmp_path: Path, lines: list[list[str]]) -> Path:
    return write_csv(tmp_path, "orders_export.csv", SHOPIFY, lines)


def recorded_at(engine: Engine) -> list[datetime]:
    with engine.connect() as connection:
        return list(connection.execute(select(Consent.recorded_at).order_by(Consent.id)).scalars())


def held(engine: Engine, customer_id: int) -> str:
    with engine.connect() as connection:
        found = effective_consents(connection, customer_id)
    return {(c["purpose"], c["channel"]): c["status"] for c in found}[("marketing", "email")]


def test_a_shopify_no_is_not_granted_and_never_an_unsubscribe(engine: Engine, tmp_path) -> None:
    export = shopify(
        tmp_path,
        [
            [
                "#1",
                "ana@example.si",
                "paid",
                "yes",
                "2026-02-01 09:30:00 +0100",
                "EUR",
                "9",
                "2026-03-01 10:00:00 +0100",
                "1",
                "Tea",
                "9",
                "TEA",
                "Ana Novak",
            ],
            [
                "#2",
                "bo@example.my",
                "paid",
                "no",
                "",
                "EUR",
                "9",
                "2026-03-02 10:00:00 +0800",
                "1",
                "Tea",
                "9",
                "TEA",
                "Bo Tan",
            ],
        ],
    )

    run_import(engine, "orders", export, file_format="shopify")

    statements = rows(
        engine,
        "SELECT sr.external_id, c.status, c.lawful_basis FROM consents c "
        "JOIN source_records sr ON sr.id = c.source_record_id ORDER BY sr.external_id",
    )
    assert statements == [
        ("ana@example.si", "granted", "consent"),
        ("bo@example.my", "not_granted", "none"),
    ]
    promo = tmp_path / "books"
    promo.mkdir()
    (promo / "promo.toml").write_text(
        'name = "promo"\ntitle = "promo"\npurpose = "marketing"\ntemplate = "winback"\n'
        'control_share = 0.0\n[trigger]\non = "order"\ndelay_days = 1\n',
        encoding="utf-8",
    )
    relmark = Interaction(engine, Settings(secret_key="s" * 20), playbooks_dir=promo)
    relmark.plan(datetime(2026, 3, 3, 12, tzinfo=UTC), datetime(2026, 3, 3, 12, tzinfo=UTC))
    reasons = rows(
        engine,
        "SELECT sr.external_id, m.reason FROM messages m "
        "JOIN source_records sr ON sr.customer_id = m.customer_id ORDER BY sr.external_id",
    )
    assert reasons == [
        ("ana@example.si", None),
        ("bo@example.my", "no_consent"),
    ]  # not unsubscribed


def test_the_statement_keeps_the_sources_time(engine: Engine, tmp_path) -> None:
    export = shopify(
        tmp_path,
        [
            [
                "#1",
                "ana@example.si",
                "paid",
                "yes",
                "2026-02-01 09:30:00 +0100",
                "EUR",
                "9",
                "2026-03-01 10:00:00 +0100",
                "1",
                "Tea",
                "9",
                "TEA",
                "Ana Novak",
            ],
            [
                "#2",
                "bo@example.my",
                "paid",
                "yes",
                "",
                "EUR",
                "9",
                "2026-03-02 10:00:00 +0800",
                "1",
                "Tea",
                "9",
                "TEA",
                "Bo Tan",
            ],
        ],
    )
    imported_at = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

    run_import(engine, "orders", export, file_format="shopify", now=imported_at)

    times = recorded_at(engine)
    assert datetime(2026, 2, 1, 8, 30, tzinfo=UTC) in times
    assert imported_at in times  # no time in the file: the import's


def test_a_csv_consent_time_column_is_recognised(engine: Engine, tmp_path) -> None:
    path = write_csv(
        tmp_path,
        "c.csv",
        ["customer_id", "email", "accepts_marketing", "consent_updated_at"],
        [["C1", "ana@example.si", "yes", "2025-12-24T18:00:00Z"]],
    )
    run_import(engine, "customers", path)
    assert recorded_at(engine) == [datetime(2025, 12, 24, 18, 0, tzinfo=UTC)]


def test_yes_then_no_on_one_record_is_a_withdrawal_a_first_no_is_not(
    engine: Engine, tmp_path
) -> None:
    first = write_csv(
        tmp_path, "a.csv", HEADER, [["C1", "a@example.si", "A", "yes"], ["C2", "b@x.si", "B", "no"]]
    )
    second = write_csv(
        tmp_path, "b.csv", HEADER, [["C1", "a@example.si", "A", "no"], ["C2", "b@x.si", "B", "no"]]
    )
    run_import(engine, "customers", first)
    run_import(engine, "customers", second)
    assert rows(engine, "SELECT customer_id, status FROM consents ORDER BY id") == [
        (1, "granted"),
        (2, "not_granted"),
        (1, "withdrawn"),
    ]
    assert (held(engine, 1), held(engine, 2)) == ("withdrawn", "not_granted")


def test_an_unticked_box_elsewhere_does_not_undo_a_grant_but_a_withdrawal_does(
    engine: Engine, tmp_path
) -> None:
    web = write_csv(
        tmp_path,
        "web.csv",
        HEADER,
        [["W1", "ana@example.si", "Ana", "yes"], ["W2", "bo@example.my", "Bo", "yes"]],
    )
    shop = write_csv(
        tmp_path,
        "shop.csv",
        HEADER,
        [["S1", "ana@example.si", "Ana", "no"], ["S2", "bo@example.my", "Bo", "unsubscribed"]],
    )
    run_import(engine, "customers", web, source="web")
    run_import(engine, "customers", shop, source="shop")

    pipeline.identify(engine, now=datetime(2026, 6, 1, tzinfo=UTC), probabilistic=False)

    assert held(engine, 1) == "granted"  # the person said yes on the web; the shop never asked
    assert held(engine, 2) == "withdrawn"  # an explicit opt-out on any record holds
