"""Rights of access and rectification through the real CLI, on SQLite and PostgreSQL: the
export covers every profile merged into the person's, as JSON and injection-safe CSV with a
README in their language; a correction is validated like an import, survives later imports
and merges, and both acts are in the audit trail with field names only."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from typer.testing import CliRunner

from relmark import pipeline
from relmark.interfaces.cli import app
from relmark.store.audit import entries

from .conftest import NOW
from .helpers import rows, run_import, write_csv
from .interact.conftest import Shop, book, scores

runner = CliRunner()
HEADER = ["customer_id", "email", "phone", "first_name", "last_name", "language", "city"]
HEADER += ["birthday", "email_consent"]
ANA_WEB = ["W1", "ana@example.si", "", "Ana", '=HYPERLINK("http://x")', "sl", "Kranj"]
ANA_WEB += ["1990-01-02", "yes"]
ANA_SHOP = ["S1", "ANA@example.si", "+386 31 555 123", "Ana", "Novak", "sl", "Kranj", "", ""]


def url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def cli(engine: Engine, *args: str) -> Any:
    return runner.invoke(app, [*args, "--db", url(engine)])


def merged_customer(engine: Engine, folder: Path) -> tuple[int, int]:
    """Ana bought on the web and in the shop; identity resolution joined her two profiles.
    She got a message, clicked it, rated it, posted about the shop and called support."""
    shop = Shop(engine, folder)
    run_import(engine, "customers", write_csv(folder, "w.csv", HEADER, [ANA_WEB]), source="web")
    run_import(engine, "customers", write_csv(folder, "s.csv", HEADER, [ANA_SHOP]), source="shop")
    shop.products([["TEA", "Green tea", "tea", ""]])
    header = ["order_id", "customer_id", "ordered_at", "currency", "status", "sku", "quantity"]
    header += ["unit_price"]
    lines = [
        ["O1", "W1", "2026-05-20T10:00:00Z", "EUR", "completed", "TEA", 2, "4.50"],
        ["O2", "S1", "2026-05-31T10:00:00Z", "EUR", "completed", "TEA", 1, "4.50"],
    ]
    run_import(engine, "orders", write_csv(folder, "ow.csv", header, lines[:1]), source="web")
    run_import(engine, "orders", write_csv(folder, "os.csv", header, lines[1:]), source="shop")
    pipeline.identify(engine, now=NOW, probabilistic=False)
    survivor = shop.id_of("W1")
    with engine.connect() as connection:
        owners = connection.execute(
            text("SELECT id, merged_into_id FROM customers ORDER BY id")
        ).fetchall()
    absorbed = next(i for i, m in owners if m == survivor)
    scores(engine, {survivor: {"explanation": "bought twice in May: loyal"}}, NOW)
    shop.interaction(book("promo", trigger={"on": "order", "delay_days": 1})).plan(NOW, NOW)
    message_id = shop.messages()[0]["id"]
    with engine.begin() as connection:
        for kind, data in (("click", {"url": "https://shop.example/"}), ("rating", {"score": 9})):
            connection.execute(
                text(
                    "INSERT INTO message_events (message_id, customer_id, at, kind, data) "
                    "VALUES (:m, :c, :at, :k, :d)"
                ),
                {"m": message_id, "c": absorbed, "at": NOW, "k": kind, "d": json.dumps(data)},
            )
        connection.execute(
            text(
                "INSERT INTO mentions (platform, author_handle, customer_id, text, posted_at) "
                "VALUES ('x', '@ana', :c, '+1 for the green tea', :at)"
            ),
            {"c": absorbed, "at": NOW},
        )
        connection.execute(
            text(
                "INSERT INTO support_contacts (customer_id, at, channel, reason, minutes) "
                "VALUES (:c, :at, 'phone', 'late parcel', 7)"
            ),
            {"c": absorbed, "at": NOW},
        )
    return survivor, absorbed


def test_an_export_holds_everything_about_a_merged_customer(engine: Engine, tmp_path: Path) -> None:
    # given Ana, whose second profile was merged into her first
    survivor, absorbed = merged_customer(engine, tmp_path)
    target = tmp_path / "ana.zip"

    # when her data is exported by her e-mail, in another case than either source wrote it
    result = cli(engine, "privacy", "export", "Ana@Example.SI", "--out", str(target), "--json")

    # then the archive covers both profiles in every section
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["customer_id"] == survivor
    bundle = zipfile.ZipFile(target)
    data = json.loads(bundle.read("data.json"))
    sections = data["sections"]
    assert sorted(data["profile_ids"]) == sorted([survivor, absorbed])
    assert {r["external_id"] for r in sections["source_records"]} == {"W1", "S1"}
    assert {r["email_key"] for r in sections["source_records"]} == {"ana@example.si"}
    assert [(m["survivor_id"], m["absorbed_id"]) for m in sections["merges"]] == [
        (survivor, absorbed)
    ]
    assert sorted(o["external_id"] for o in sections["orders"]) == ["O1", "O2"]
    assert {line["product_name"] for line in sections["order_lines"]} == {"Green tea"}
    assert sections["scores"][0]["explanation"] == "bought twice in May: loyal"
    assert [c["status"] for c in sections["consents"]] == ["granted"]
    assert sections["consents"][0]["proof"].startswith("imported from")
    assert [m["playbook"] for m in sections["messages"]] == ["promo"]
    assert [e["kind"] for e in sections["link_events"]] == ["click"]
    assert [e["data"] for e in sections["ratings"]] == [{"score": 9}]
    assert [m["text"] for m in sections["mentions"]] == ["+1 for the green tea"]
    assert [s["reason"] for s in sections["support_contacts"]] == ["late parcel"]
    kinds = {e["kind"] for e in sections["customer_events"]}
    assert {"customer_created", "customer_merged", "consent_recorded"} <= kinds

    # and every section is a CSV whose cells a spreadsheet cannot run as formulas
    assert set(bundle.namelist()) == {"data.json", "README.txt"} | {f"{s}.csv" for s in sections}
    records = bundle.read("source_records.csv").decode("utf-8-sig")
    names = {r["last_name"] for r in csv.DictReader(io.StringIO(records))}
    assert '\'=HYPERLINK("http://x")' in names
    assert '=HYPERLINK("http://x")' not in names
    mentions = list(csv.DictReader(io.StringIO(bundle.read("mentions.csv").decode("utf-8-sig"))))
    assert mentions[0]["text"] == "'+1 for the green tea"

    # and the README speaks her language (Slovenian), naming both customer numbers
    readme = bundle.read("README.txt").decode("utf-8")
    assert "Vaši osebni podatki" in readme
    assert f"{min(survivor, absorbed)}, {max(survivor, absorbed)}" in readme
    assert "mentions.csv" in readme

    # and the export is in the audit trail, with counts and no personal value
    with engine.connect() as connection:
        trail = entries(connection, customer_id=survivor)
    assert [(e["action"], e["actor_kind"]) for e in trail] == [("customer.export", "cli")]
    assert trail[0]["detail"]["rows"]["orders"] == 2
    assert "ana" not in json.dumps(trail[0]["detail"]).lower()


def test_an_unknown_customer_is_a_clear_error_and_writes_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    result = cli(engine, "privacy", "export", "nobody@example.com", "--out", str(tmp_path / "x"))
    assert result.exit_code == 1
    assert "no customer with id or e-mail 'nobody@example.com'" in result.output
    assert not (tmp_path / "x").exists()
    with engine.connect() as connection:
        assert entries(connection) == []


def profile(engine: Engine, external_id: str) -> dict[str, Any]:
    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT c.* FROM customers c JOIN source_records sr ON sr.customer_id = c.id "
                "WHERE sr.external_id = :e"
            ),
            {"e": external_id},
        ).mappings()
        return dict(row.one())


def test_a_correction_survives_later_imports_until_corrected_again(
    engine: Engine, tmp_path: Path
) -> None:
    # given Ana imported from the web
    original = write_csv(tmp_path, "w.csv", HEADER, [ANA_WEB])
    run_import(engine, "customers", original, source="web")
    customer = profile(engine, "W1")["id"]

    # when she has her name, e-mail and birthday corrected
    result = cli(
        engine,
        "privacy",
        "rectify",
        str(customer),
        "last_name=Novak",
        "email=Ana.Novak@Example.si",
        "birthday=1990-02-01",
    )
    assert result.exit_code == 0, result.output
    assert "rectified last_name, email, birthday" in result.output

    # and the original file is imported again, then a newer one that moves her to Bled
    run_import(engine, "customers", original, source="web", now=datetime(2026, 7, 1, tzinfo=UTC))
    moved = write_csv(tmp_path, "w2.csv", HEADER, [[*ANA_WEB[:6], "Bled", *ANA_WEB[7:]]])
    run_import(engine, "customers", moved, source="web", now=datetime(2026, 7, 2, tzinfo=UTC))
    pipeline.identify(engine, now=datetime(2026, 7, 2, tzinfo=UTC), probabilistic=False)

    # then the corrected values stay (the e-mail as its normalised key); the move is taken
    after = profile(engine, "W1")
    assert (after["last_name"], after["email"], str(after["birthday"])) == (
        "Novak",
        "ana.novak@example.si",
        "1990-02-01",
    )
    assert after["city"] == "Bled"

    # and a newer correction of the same field wins
    assert (
        cli(engine, "privacy", "rectify", "ana.novak@example.si", "first_name=Anna").exit_code == 0
    )
    run_import(engine, "customers", moved, source="web", now=datetime(2026, 7, 3, tzinfo=UTC))
    assert profile(engine, "W1")["first_name"] == "Anna"

    # and each correction is an event with its actor, and an audit entry naming fields only
    events = rows(
        engine,
        "SELECT parameters FROM customer_events WHERE kind = 'customer_rectified' ORDER BY id",
    )
    parameters = [p if isinstance(p, dict) else json.loads(p) for (p,) in events]
    assert [p["fields"] for p in parameters] == [
        ["last_name", "email", "birthday"],
        ["first_name"],
    ]
    assert {p["actor_kind"] for p in parameters} == {"cli"}
    with engine.connect() as connection:
        trail = entries(connection, customer_id=customer)
    assert [e["action"] for e in trail] == ["customer.rectify", "customer.rectify"]
    assert "novak" not in json.dumps([e["detail"] for e in trail]).lower()


def test_a_correction_is_checked_like_an_import_and_a_bad_one_changes_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    run_import(engine, "customers", write_csv(tmp_path, "w.csv", HEADER, [ANA_WEB]), source="web")
    customer = str(profile(engine, "W1")["id"])

    bad_date = cli(engine, "privacy", "rectify", customer, "birthday=1990-13-01", "email=n/a")
    unknown = cli(engine, "privacy", "rectify", customer, "customer_since=2020-01-01")
    not_a_pair = cli(engine, "privacy", "rectify", customer, "Ana")

    assert bad_date.exit_code == 1
    assert "'birthday': '1990-13-01': is not a date" in bad_date.output
    assert "'email': 'n/a': placeholder" in bad_date.output
    assert "nothing was changed" in bad_date.output
    assert unknown.exit_code == 1
    assert "cannot rectify customer_since" in unknown.output
    assert not_a_pair.exit_code == 1
    assert "'Ana' is not FIELD=VALUE" in not_a_pair.output
    assert str(profile(engine, "W1")["birthday"]) == "1990-01-02"
    assert rows(engine, "SELECT COUNT(*) FROM rectifications") == [(0,)]
    with engine.connect() as connection:
        assert entries(connection) == []


def test_a_correction_follows_the_profile_into_a_merge(engine: Engine, tmp_path: Path) -> None:
    # given two profiles of Ana, the shop's corrected before identity resolution joins them
    run_import(engine, "customers", write_csv(tmp_path, "w.csv", HEADER, [ANA_WEB]), source="web")
    run_import(engine, "customers", write_csv(tmp_path, "s.csv", HEADER, [ANA_SHOP]), source="shop")
    shop_profile = profile(engine, "S1")["id"]
    assert (
        cli(engine, "privacy", "rectify", str(shop_profile), "last_name=Novak-Kos").exit_code == 0
    )

    # when they are merged (survivorship chooses each field again from the records)
    pipeline.identify(engine, now=NOW, probabilistic=False)

    # then the live profile shows the corrected name, whichever profile survived
    assert profile(engine, "W1")["last_name"] == "Novak-Kos"
    assert profile(engine, "W1")["id"] == profile(engine, "S1")["id"]


def test_the_audit_command_filters_by_customer_and_day(engine: Engine, tmp_path: Path) -> None:
    from relmark.store.audit import Actor, record

    run_import(engine, "customers", write_csv(tmp_path, "w.csv", HEADER, [ANA_WEB]), source="web")
    customer = profile(engine, "W1")["id"]
    with engine.begin() as connection:
        record(
            connection,
            Actor.cli(),
            "customer.view",
            customer_id=customer,
            at=datetime(2026, 5, 1, tzinfo=UTC),
        )
        record(
            connection,
            Actor("user", "mia@shop.example", "10.0.0.9"),
            "customer.export",
            customer_id=customer,
            at=datetime(2026, 6, 2, tzinfo=UTC),
        )
        record(
            connection,
            Actor.cli(),
            "policy.change",
            detail={"fields": ["quiet_start"]},
            at=datetime(2026, 6, 3, tzinfo=UTC),
        )

    by_customer = cli(engine, "audit", "--customer", "ana@example.si", "--json")
    recent = cli(engine, "audit", "--since", "2026-06-02", "--json")
    table = cli(engine, "audit")
    bad = cli(engine, "audit", "--since", "June")

    assert [e["action"] for e in json.loads(by_customer.stdout)] == [
        "customer.export",
        "customer.view",
    ]
    assert [e["action"] for e in json.loads(recent.stdout)] == ["policy.change", "customer.export"]
    assert json.loads(by_customer.stdout)[0]["actor"] == "mia@shop.example"
    assert json.loads(by_customer.stdout)[0]["origin"] == "10.0.0.9"
    assert "3 audit entries" in table.stdout
    assert bad.exit_code == 1
    assert "--since" in bad.output


def test_policy_and_playbook_changes_are_in_the_trail(engine: Engine, tmp_path: Path) -> None:
    shop = Shop(engine, tmp_path)
    relmark = shop.interaction(book("promo"))
    relmark.set_policy({"max_per_7_days": 1, "min_hours_between": 24}, NOW)
    relmark.enable("promo", False, NOW)

    with engine.connect() as connection:
        trail = entries(connection)
    assert [(e["action"], e["actor_kind"], e["detail"]) for e in trail] == [
        ("playbook.disable", "cli", {"playbook": "promo"}),
        ("policy.change", "cli", {"fields": ["max_per_7_days", "min_hours_between"]}),
    ]
