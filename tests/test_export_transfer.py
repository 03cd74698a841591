"""Exports for other systems (`relmark export identities|customers`): restricted customers
never appear; personal data only for customers who consented to third-party sharing;
every export is an entry in the audit trail. Through the real CLI, on SQLite and
PostgreSQL."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine
from typer.testing import CliRunner

from relmark.config import Settings
from relmark.enums import ConsentStatus
from relmark.interaction import Interaction
from relmark.interfaces.cli import app
from relmark.store.audit import entries

from .helpers import run_import, write_csv

runner = CliRunner()
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def store(engine: Engine, folder: Path) -> dict[str, int]:
    """Three customers from the shop (E0 consented to sharing, E1 did not, E2 restricted),
    two tracking identities of E1 whose external ids are her e-mail and phone, and her
    Shopify id (digits, not a phone number)."""
    header = ["customer_id", "email", "phone", "first_name", "last_name", "address", "city"]
    people = [
        [
            f"E{i}",
            f"e{i}@example.si",
            f"+386 31 30000{i}",
            f"Ime{i}",
            f"Priimek{i}",
            f"Ulica {i}",
            "Ljubljana",
        ]
        for i in range(3)
    ]
    run_import(engine, "customers", write_csv(folder, "c.csv", header, people))
    tracked = [["e1@example.si", "e1@example.si", ""], ["+38631300001", "", "+386 31 300001"]]
    run_import(
        engine,
        "customers",
        write_csv(folder, "t.csv", ["customer_id", "email", "phone"], tracked),
        source="tracking",
    )
    shopify = [["4421337712345", "e1@example.si"]]
    run_import(
        engine,
        "customers",
        write_csv(folder, "s.csv", ["customer_id", "email"], shopify),
        source="shopify",
    )
    from relmark import pipeline

    pipeline.identify(engine, now=NOW)
    with engine.connect() as connection:
        found = connection.exec_driver_sql(
            "SELECT external_id, customer_id FROM source_records WHERE source = 'default'"
        ).fetchall()
    ids = {external: int(customer) for external, customer in found}
    relmark = Interaction(engine, Settings(secret_key="x" * 32))
    relmark.record_consent(
        ids["E0"],
        purpose="third_party_sharing",
        channel="email",
        status=ConsentStatus.GRANTED,
        source="test",
        proof="form 3",
        wording_version=None,
        now=NOW,
    )
    relmark.record_consent(  # consent does not outweigh a restriction
        ids["E2"],
        purpose="third_party_sharing",
        channel="email",
        status=ConsentStatus.GRANTED,
        source="test",
        proof="form 4",
        wording_version=None,
        now=NOW,
    )
    relmark.restrict(ids["E2"], True, NOW)
    return ids


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_export_customers_carries_personal_data_only_with_consent(
    engine: Engine, tmp_path: Path
) -> None:
    # given the store
    ids = store(engine, tmp_path)
    out = tmp_path / "customers.csv"

    # when the customers are exported for another system
    result = runner.invoke(
        app,
        [
            "export",
            "customers",
            "--out",
            str(out),
            "--db",
            engine.url.render_as_string(hide_password=False),
        ],
    )

    # then the restricted customer is absent, E0 has contact and address, E1 ids only
    assert result.exit_code == 0, result.output
    assert "(1 with personal data" in " ".join(result.output.split())
    by_id = {int(r["customer_id"]): r for r in read(out)}
    assert set(by_id) == {ids["E0"], ids["E1"]}
    e0, e1 = by_id[ids["E0"]], by_id[ids["E1"]]
    assert (e0["email"], e0["phone"], e0["last_name"], e0["address"]) == (
        "e0@example.si",
        "+386 31 300000",
        "Priimek0",
        "Ulica 0",
    )
    assert e0["personal_data"] == "true"
    for field in ("email", "phone", "first_name", "last_name", "address", "city"):
        assert e1[field] == ""
    assert e1["personal_data"] == "false"
    text = out.read_text(encoding="utf-8")
    for personal in ("e1@", "e2@", "Ime1", "Ime2", "300001", "300002", "Ulica 2"):
        assert personal not in text
    # and the export is in the audit trail, with counts only
    with engine.connect() as connection:
        [entry] = [e for e in entries(connection) if e["action"] == "export.customers"]
    assert entry["actor_kind"] == "cli"
    assert entry["detail"] == {"rows": 2, "with_personal_data": 1}


def test_export_identities_leaves_out_restricted_and_personal_ids(
    engine: Engine, tmp_path: Path
) -> None:
    # given the store
    ids = store(engine, tmp_path)
    out = tmp_path / "identities.csv"

    # when the identities are exported
    result = runner.invoke(
        app,
        [
            "export",
            "identities",
            "--out",
            str(out),
            "--db",
            engine.url.render_as_string(hide_password=False),
        ],
    )

    # then the restricted customer's records are absent, and the tracking id that is an
    # e-mail address is left empty for a customer who did not consent to sharing
    assert result.exit_code == 0, result.output
    exported = read(out)
    assert ids["E2"] not in {int(r["customer_id"]) for r in exported}
    assert sorted((r["source"], r["external_id"]) for r in exported) == [
        ("default", "E0"),
        ("default", "E1"),
        ("shopify", "4421337712345"),
        ("tracking", ""),
        ("tracking", ""),
    ]
    assert {int(r["customer_id"]) for r in exported if r["source"] != "default"} == {ids["E1"]}
    assert "e1@example.si" not in out.read_text(encoding="utf-8")
    assert "300001" not in out.read_text(encoding="utf-8")
    with engine.connect() as connection:
        actions = [e["action"] for e in entries(connection)]
    assert "export.identities" in actions
