"""The REST API on a small shop: search, filter, the 360 view, segments, messages, imports."""

from __future__ import annotations

from datetime import UTC, datetime

from ..interact.conftest import scores
from .conftest import Web

AS_OF = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def shop(web: Web) -> dict[str, int]:
    web.shop.customers(
        [
            [
                "C1",
                "ana.novak@example.si",
                "+386 31 555 123",
                "Ana",
                "sl",
                "SI",
                "Europe/Ljubljana",
                "",
                "",
                "yes",
            ],
            ["C2", "bo@example.my", "", "Bo", "ms", "MY", "Asia/Kuala_Lumpur", "", "", "no"],
            ["C3", "aigerim@example.kz", "", "Айгерим", "kk", "KZ", "Asia/Almaty", "", "", "yes"],
        ]
    )
    web.shop.products([["TEA", "Tea", "tea", ""]])
    web.shop.orders([["O1", "C1", "2026-05-31T10:00:00Z", "EUR", "completed", "TEA", 2, "4.5"]])
    ids = {c: web.shop.id_of(c) for c in ("C1", "C2", "C3")}
    scores(
        web.shop.engine,
        {
            ids["C1"]: {"segment": "champions", "clv_minor": 90000, "p_alive": 0.9},
            ids["C2"]: {"segment": "at_risk", "clv_minor": 30000, "p_alive": 0.4},
            ids["C3"]: {"segment": "champions", "clv_minor": 50000, "p_alive": 0.7},
        },
        AS_OF,
    )
    return ids


def test_search_filter_sort_and_paginate(web: Web) -> None:
    ids = shop(web)
    viewer = web.as_role("viewer")
    everyone = web.client.get("/api/v1/customers", headers=viewer).json()
    assert everyone["total"] == 3
    assert [c["id"] for c in everyone["items"]] == [ids["C1"], ids["C3"], ids["C2"]]  # by CLV
    by_name = web.client.get("/api/v1/customers", params={"q": "айгерим"}, headers=viewer).json()
    assert [c["id"] for c in by_name["items"]] == [ids["C3"]]
    by_phone = web.client.get("/api/v1/customers", params={"q": "555123"}, headers=viewer).json()
    assert [c["id"] for c in by_phone["items"]] == [ids["C1"]]
    by_mail = web.client.get("/api/v1/customers", params={"q": "EXAMPLE.MY"}, headers=viewer)
    assert [c["id"] for c in by_mail.json()["items"]] == [ids["C2"]]
    champions = web.client.get(
        "/api/v1/customers",
        params={
            "segment": "champions",
            "sort": "p_alive",
            "order": "asc",
            "per_page": 1,
            "page": 2,
        },
        headers=viewer,
    ).json()
    assert champions["total"] == 2
    assert [c["id"] for c in champions["items"]] == [ids["C1"]]
    ranged = web.client.get(
        "/api/v1/customers", params={"min_clv": 40000, "max_p_alive": 0.8}, headers=viewer
    ).json()
    assert [c["id"] for c in ranged["items"]] == [ids["C3"]]


def test_the_360_view_has_every_part(web: Web) -> None:
    ids = shop(web)
    data = web.client.get(f"/api/v1/customers/{ids['C1']}", headers=web.as_role("viewer")).json()
    assert set(data) == {
        "customer",
        "restricted",
        "restriction",
        "score",
        "score_run",
        "identities",
        "orders",
        "consents",
        "consent_statements",
        "messages",
        "events",
        "merges",
    }
    assert data["customer"]["first_name"] == "Ana"
    assert data["score"]["segment"] == "champions"
    assert data["orders"][0]["amount_minor"] == 900
    assert data["consents"][0]["status"] == "granted"
    assert data["identities"][0]["external_id"] == "C1"


def test_segments_kpis_and_runs(web: Web) -> None:
    shop(web)
    viewer = web.as_role("viewer")
    segments = web.client.get("/api/v1/segments", headers=viewer).json()
    assert {s["segment"]: s["customers"] for s in segments} == {"champions": 2, "at_risk": 1}
    kpi = web.client.get("/api/v1/reports/kpi", headers=viewer).json()
    assert (kpi["customers"], kpi["active"], kpi["customer_equity_minor"]) == (3, 2, 170000)
    assert web.client.get("/api/v1/score-runs", headers=viewer).json()[0]["n_customers"] == 3


def test_playbooks_preview_plan_and_messages(web: Web) -> None:
    shop(web)
    marketer, analyst = web.as_role("marketer"), web.as_role("analyst")
    listed = web.client.get("/api/v1/playbooks", headers=analyst).json()
    assert {p["name"] for p in listed} >= {"thank-you", "win-back"}
    # the gift is a promise of goods: it runs once the shop has set it up and enabled it
    assert web.client.post("/api/v1/playbooks/vip-gift/enable", headers=marketer).status_code == 200
    preview = web.client.get("/api/v1/playbooks/vip-gift/preview", headers=analyst).json()
    assert preview["candidates"] >= 1
    assert web.client.get("/api/v1/messages", headers=analyst).json()["total"] == 0  # dry run
    assert web.client.post("/api/v1/playbooks/referral/disable", headers=marketer).json() == {
        "name": "referral",
        "enabled": False,
    }
    planned = web.client.post("/api/v1/plan", headers=marketer).json()
    assert planned["candidates"] >= 1
    assert "referral" not in planned["playbooks"]
    messages = web.client.get("/api/v1/messages", params={"status": "held"}, headers=analyst)
    assert all(m["status"] == "held" for m in messages.json()["items"])
    unknown = web.client.post("/api/v1/playbooks/nope/enable", headers=marketer)
    assert unknown.status_code == 422
    assert "no playbook named 'nope'" in unknown.text


def test_upload_an_import_and_see_line_errors(web: Web) -> None:
    analyst = web.as_role("analyst")
    good = "customer_id,email\nK1,k1@example.com\nK2,k2@example.com\n"
    bad = "customer_id,email,birthday\nK3,k3@example.com,1990-02-30\n"
    ok = web.client.post(
        "/api/v1/imports/customers", files={"file": ("people.csv", good)}, headers=analyst
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["import"]["inserted"] == 2
    refused = web.client.post(
        "/api/v1/imports/customers", files={"file": ("more.csv", bad)}, headers=analyst
    )
    assert refused.status_code == 422
    error = refused.json()["errors"][0]
    assert (error["line"], error["column"]) == (2, "birthday")
    assert web.client.get("/api/v1/customers", headers=analyst).json()["total"] == 2
    # and the audit trail says which key imported what (the refused file changed nothing)
    from relmark.store.audit import entries

    with web.shop.engine.connect() as connection:
        imports = [e for e in entries(connection) if e["action"].startswith("import.")]
    assert [(e["action"], e["actor_kind"], e["detail"]["inserted"]) for e in imports] == [
        ("import.customers", "key", 2)
    ]
    assert imports[0]["actor"].startswith("analyst")


def test_the_timeline_spans_merged_profiles(web: Web) -> None:
    from relmark import pipeline

    header = ["customer_id", "email", "first_name"]
    from ..helpers import run_import, write_csv

    run_import(
        web.shop.engine,
        "customers",
        write_csv(web.shop.folder, "a.csv", header, [["A1", "same@example.com", "Ana"]]),
        source="web",
    )
    run_import(
        web.shop.engine,
        "customers",
        write_csv(web.shop.folder, "b.csv", header, [["B1", "same@example.com", "Ana"]]),
        source="shop",
    )
    pipeline.identify(web.shop.engine, now=AS_OF, probabilistic=False)
    survivor = web.shop.id_of("A1")
    absorbed = [
        r
        for r in web.client.get(
            f"/api/v1/customers/{survivor}", headers=web.as_role("viewer")
        ).json()["events"]
        if r["kind"] == "customer_created"
    ]
    assert len(absorbed) == 2  # both profiles' creation, on one timeline


def test_a_search_sees_a_renamed_customer_at_once(web: Web) -> None:
    """The figure cache is keyed by the store's version: an import that only renames a
    customer must change that version too (its event does)."""
    ids = shop(web)
    viewer = web.as_role("viewer")
    before = web.client.get("/api/v1/customers", params={"q": "zed"}, headers=viewer).json()
    assert before["total"] == 0
    web.shop.customers(
        [["C2", "bo@example.my", "", "Zed", "ms", "MY", "Asia/Kuala_Lumpur", "", "", "no"]]
    )

    after = web.client.get("/api/v1/customers", params={"q": "zed"}, headers=viewer).json()

    assert after["total"] == 1
    assert [c["id"] for c in after["items"]] == [ids["C2"]]
