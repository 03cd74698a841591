"""`GET /api/v1/messages`: the outbox list with every filter, paged, bounded, signed in."""

from __future__ import annotations

from ..interact.outbox_seed import NEWEST_FIRST, seed
from .conftest import Web


def keys(data: dict, items: list[dict]) -> list[str]:
    by_id = {v: k for k, v in data["ids"].items()}
    return [by_id[i["id"]] for i in items]


def get(web: Web, **params: object) -> dict:
    answer = web.client.get("/api/v1/messages", params=params, headers=web.as_role("viewer"))
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_list_names_customer_reason_and_times(web: Web) -> None:
    data = seed(web.shop)
    page = get(web)
    assert (page["total"], page["page"], page["per_page"]) == (7, 1, 50)
    assert keys(data, page["items"]) == NEWEST_FIRST
    capped = next(i for i in page["items"] if i["id"] == data["ids"]["m2"])
    assert capped["customer_id"] == data["customers"]["C2"]
    assert (capped["customer_name"], capped["email"]) == ("Bo", "bo@example.my")
    assert capped["reason"] == "cap_7d"
    assert capped["reason_text"] == "The customer already gets the most messages allowed in 7 days."
    assert capped["due_at"] == "2026-05-04T09:00:00Z"
    sent = next(i for i in page["items"] if i["id"] == data["ids"]["m1"])
    assert sent["sent_at"] == "2026-05-03T09:01:00Z"
    failed = next(i for i in page["items"] if i["id"] == data["ids"]["m6"])
    assert (failed["attempts"], failed["last_error"]) == (3, "550 mailbox unavailable")


def test_every_filter_as_a_query_parameter(web: Web) -> None:
    data = seed(web.shop)
    cases = [
        ({"playbook": "thank-you"}, ["m4", "m2", "m1"]),
        ({"status": "planned"}, ["m7", "m5"]),
        ({"reason": "cap_7d"}, ["m2"]),
        ({"reason": ""}, ["m7", "m1", "m6"]),  # the counts' rows without a reason
        ({"expired": "true"}, ["m4", "m3"]),
        ({"customer_id": data["customers"]["C2"]}, ["m7", "m2", "m6"]),
        ({"email": "Ana.Novak@Example.SI"}, ["m5", "m1"]),
        (
            {"due_from": "2026-05-04T09:00:00Z", "due_to": "2026-05-06T09:00:00Z"},
            ["m4", "m3", "m2"],
        ),
        ({"due_from": "2026-05-07T11:00:00+02:00"}, ["m7", "m5"]),
        ({"due_to": "2026-05-02T09:00:00"}, ["m6"]),  # no offset: UTC
        ({"sent_from": "2026-05-03T00:00:00Z", "sent_to": "2026-05-04T00:00:00Z"}, ["m1"]),
        ({"status": "held", "playbook": "birthday", "reason": "expired"}, ["m3"]),
    ]
    for params, expected in cases:
        assert keys(data, get(web, **params)["items"]) == expected, params


def test_pages(web: Web) -> None:
    data = seed(web.shop)
    pages = [get(web, page=n, per_page=3) for n in (1, 2, 3, 4)]
    assert [p["total"] for p in pages] == [7] * 4
    assert sum((keys(data, p["items"]) for p in pages), []) == NEWEST_FIRST
    assert pages[3]["items"] == []


def test_bad_parameters_are_422_problems_naming_the_parameter(web: Web) -> None:
    seed(web.shop)
    viewer = web.as_role("viewer")
    cases = [
        ({"status": "lost"}, "status"),
        ({"per_page": 501}, "per_page"),
        ({"page": 0}, "page"),
        ({"customer_id": 2**31}, "customer_id"),
        ({"due_from": "yesterday"}, "due_from"),
        ({"due_from": "2026-05-06T00:00:00Z", "due_to": "2026-05-04T00:00:00Z"}, "due_from"),
        ({"sent_to": "0001-01-01T00:00:00+05:00"}, "sent_to"),
        ({"expired": "true", "status": "sent"}, "expired"),
        ({"email": "x" * 321}, "email"),
    ]
    for params, name in cases:
        answer = web.client.get("/api/v1/messages", params=params, headers=viewer)
        assert answer.status_code == 422, (params, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert name in answer.text, (params, answer.text)


def test_signed_in_only_and_documented(web: Web) -> None:
    assert web.client.get("/api/v1/messages").status_code == 401
    doc = web.client.get("/api/openapi.json", headers=web.as_role("viewer")).json()
    operation = doc["paths"]["/api/v1/messages"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert names >= {
        "customer_id",
        "email",
        "playbook",
        "status",
        "reason",
        "expired",
        "due_from",
        "due_to",
        "sent_from",
        "sent_to",
        "page",
        "per_page",
    }
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/MessagePage"}
    item = doc["components"]["schemas"]["MessageItem"]["properties"]
    assert "plain English" in item["reason_text"]["description"]
