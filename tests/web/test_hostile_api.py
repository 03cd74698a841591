"""Smaller defects of issue 12 (point 8): search treats `%` and `_` literally in the API and
the dashboard; the API's import reply never shows the server's temporary path."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime

import pytest

from relmark import accounts
from relmark.accounts import Role

from .conftest import Web

PEOPLE = [
    ("u1", "Ana_Marija", "Novak"),
    ("u2", "Ana-Marija", "Kos"),
    ("u3", "Eva", "Horvat 100%"),
    ("u4", "Iva", "Back\\slash"),
]


def tracked_people(web: Web) -> None:
    batch = [
        {"type": "identify", "userId": u, "traits": {"firstName": f, "lastName": last}}
        for u, f, last in PEOPLE
    ]
    response = web.client.post(
        "/v1/batch", content=json.dumps({"batch": batch}), headers=web.as_role("ingest")
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("%", ["Eva"]),
        ("ana_m", ["Ana_Marija"]),
        ("ana-m", ["Ana-Marija"]),
        ("\\", ["Iva"]),
        ("a\x00", "refused"),
        ("a", None),
    ],
)
def test_api_search_takes_percent_and_underscore_literally(
    web: Web, q: str, found: list[str] | str | None
) -> None:
    # given customers with an underscore, a percent sign and a backslash in their names
    tracked_people(web)
    # when the API is searched
    response = web.client.get("/api/v1/customers", params={"q": q}, headers=web.as_role("viewer"))
    # then only names holding those very characters match; a NUL is refused as a bad URL
    if found == "refused":
        assert response.status_code == 400, response.text
        assert "NUL" in response.json()["detail"]
        return
    assert response.status_code == 200, response.text
    names = sorted(item["first_name"] for item in response.json()["items"])
    assert names == (found if found is not None else sorted(f for _, f, _ in PEOPLE))


def test_dashboard_search_takes_percent_literally(web: Web) -> None:
    tracked_people(web)
    accounts.add_user(
        web.shop.engine, "mia@example.com", "a long password!", Role.VIEWER, datetime.now(UTC)
    )
    signed = web.client.post(
        "/login", data={"email": "mia@example.com", "password": "a long password!"}
    )
    assert signed.status_code == 303
    page = web.client.get("/customers/rows", params={"q": "%"})
    assert page.status_code == 200
    assert "Horvat 100%" in page.text
    assert "Novak" not in page.text
    assert "Kos" not in page.text


def upload(web: Web, body: str, **params: str):  # noqa: ANN201 - an httpx response
    return web.client.post(
        "/api/v1/imports/customers",
        params=params,
        files={"file": ("people.csv", body.encode(), "text/csv")},
        headers=web.as_role("analyst"),
    )


def test_the_import_reply_names_the_upload_not_the_server_path(web: Web) -> None:
    temporary = tempfile.gettempdir()
    # given a file with one good and one bad row, imported skipping the bad one
    body = "customer_id,birthday\nC1,1990-12-31\nC2,someday\n"
    reply = upload(web, body, skip_invalid="true")
    # then the reply names the upload and holds no server path
    assert reply.status_code == 200, reply.text
    report = reply.json()["import"]
    assert report["file"] == "people.csv"
    assert report["rejected"] == 1
    assert report["rejects_file"] is None
    assert temporary not in reply.text

    # given the same file imported whole
    refused = upload(web, body)
    # then the problem names the upload and line, and no server path
    assert refused.status_code == 422
    error = refused.json()["errors"][0]
    assert (error["where"], error["line"]) == ("people.csv", 3)
    assert temporary not in refused.text
