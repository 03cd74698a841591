"""Issue 12, defect 3: numbers beyond the store's integers, odd pages and odd file names
answer a 4xx problem, never a 500 (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from relmark import accounts
from relmark.accounts import Role
from relmark.interfaces.web.app import create_app

from .conftest import Web

HUGE = str(2**70)  # beyond 64 bits: schemathesis sends these first
INT4 = str(2**31)  # beyond PostgreSQL's INTEGER ids
PASSWORD = "a long enough password"


@pytest.fixture
def client(web: Web) -> TestClient:
    """The app answering 500s as responses (not exceptions), the way a real client sees them."""
    return TestClient(create_app(web.shop.engine, web.settings), raise_server_exceptions=False)


def signed_in(web: Web, client: TestClient, role: Role = Role.ANALYST) -> str:
    """A dashboard session in `client`; returns its CSRF token."""
    accounts.add_user(web.shop.engine, "ana@example.com", PASSWORD, role, datetime.now(UTC))
    client.post("/login", data={"email": "ana@example.com", "password": PASSWORD})
    page = client.get("/").text
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


BEYOND = [
    f"/api/v1/customers?page={HUGE}",
    f"/api/v1/customers?min_clv={HUGE}",
    f"/api/v1/customers?max_clv=-{HUGE}",
    f"/api/v1/customers/{HUGE}",
    f"/api/v1/customers/{INT4}",
    f"/api/v1/messages?customer_id={HUGE}",
    f"/api/v1/messages?customer_id={INT4}",
    f"/api/v1/messages?page={HUGE}",
    f"/api/v1/customers?page={10**13}",  # fits 64 bits, but its offset would not
]


def test_numbers_beyond_the_store_are_a_422_problem(web: Web, client: TestClient) -> None:
    for url in BEYOND:
        # given a viewer's key; when a number no store column can hold is sent
        response = client.get(url, headers=web.as_role("viewer"))
        # then it is refused as a problem naming the parameter, not a server error
        assert response.status_code == 422, (url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["where"].split(".")[0] in {"query", "path"}


def test_numbers_at_the_bounds_still_work(web: Web, client: TestClient) -> None:
    viewer = web.as_role("viewer")
    largest = str(2**63 - 1)
    found = client.get(f"/api/v1/customers?min_clv=-{largest}&max_clv={largest}", headers=viewer)
    assert found.status_code == 200
    assert client.get(f"/api/v1/customers/{2**31 - 1}", headers=viewer).status_code == 404
    assert client.get("/api/v1/messages?page=1000000", headers=viewer).json()["items"] == []


def test_a_nul_character_in_the_url_is_a_400(web: Web, client: TestClient) -> None:
    # PostgreSQL cannot hold NUL in text: before, this reached the driver and answered 500
    for url in ("/api/v1/customers?q=a%00b", "/api/v1/messages?playbook=%00"):
        response = client.get(url, headers=web.as_role("viewer"))
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"


def test_the_dashboard_shows_page_one_for_a_page_that_is_not_one(
    web: Web, client: TestClient
) -> None:
    signed_in(web, client, Role.VIEWER)
    for page in ("abc", "-3", "1e9", HUGE, "٣", ""):
        response = client.get(f"/customers?page={page}")
        assert response.status_code == 200, (page, response.text)
        assert client.get(f"/customers/rows?page={page}").status_code == 200
    assert client.get(f"/customers/{HUGE}").status_code == 422


@pytest.mark.parametrize("name", [".", "..", "../.."])
def test_an_upload_without_a_usable_name_is_a_400(web: Web, client: TestClient, name: str) -> None:
    # given a customers file whose name is not a file name
    body = b"customer_id,email\nC1,a@example.com\n"
    # when it is imported through the API
    response = client.post(
        "/api/v1/imports/customers", files={"file": (name, body)}, headers=web.as_role("analyst")
    )
    # then the answer is 400 with the problem shape
    assert response.status_code == 400, response.text
    assert response.json()["detail"] == "the uploaded file needs a name such as customers.csv"
    # and the dashboard's import says the same
    token = signed_in(web, client)
    page = client.post(
        "/imports", data={"kind": "customers", "csrf_token": token}, files={"file": (name, body)}
    )
    assert page.status_code == 400
