"""Every route refuses the anonymous (and the wrong role); sessions, CSRF, sign-in limits."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from relmark import accounts
from relmark.accounts import Role

from .conftest import Web

#: Reachable without an account: the token or the form is the authority.
PUBLIC = re.compile(r"^/(login|u/|p/|c/|t/|static)")
#: The least role each protected API route needs beyond viewer.
NEEDS = {
    ("POST", "/api/v1/playbooks/{name}/enable"): "marketer",
    ("POST", "/api/v1/playbooks/{name}/disable"): "marketer",
    ("POST", "/api/v1/plan"): "marketer",
    ("POST", "/api/v1/customers/{customer_id}/restrict"): "marketer",
    ("GET", "/api/v1/playbooks/{name}/preview"): "analyst",
    ("POST", "/api/v1/imports/{kind}"): "analyst",
    ("POST", "/api/v1/customers/{customer_id}/loyalty/grant"): "marketer",
    ("GET", "/api/v1/loyalty/liability"): "analyst",
}


def routes(app) -> list[tuple[str, str]]:  # noqa: ANN001
    def flat(items):  # noqa: ANN001, ANN202
        for r in items:
            if hasattr(r, "original_router"):
                yield from flat(r.original_router.routes)
            else:
                yield r

    return sorted(
        (method, r.path)
        for r in flat(app.routes)
        for method in (getattr(r, "methods", None) or [])
        if method != "HEAD"
    )


def concrete(path: str) -> str:
    return (
        path.replace("{customer_id}", "1")
        .replace("{name}", "thank-you")
        .replace("{kind}", "customers")
        .replace("{token}", "x")
    )


def test_every_route_refuses_an_anonymous_request(web: Web) -> None:
    found = routes(web.client.app)
    assert len(found) > 25
    checked = 0
    for method, path in found:
        if PUBLIC.match(path):
            continue
        response = web.client.request(method, concrete(path))
        refused = response.status_code == 401 or (
            response.status_code == 303 and response.headers["location"] == "/login"
        )
        assert refused, (method, path, response.status_code)
        checked += 1
    assert checked > 20


def test_roles_are_enforced(web: Web) -> None:
    for (method, path), needed in NEEDS.items():
        weaker = "viewer" if needed == "analyst" else "analyst"
        response = web.client.request(method, concrete(path), headers=web.as_role(weaker))
        assert response.status_code == 403, (method, path)
        assert response.headers["content-type"] == "application/problem+json"
    for method, path in routes(web.client.app):
        if path.startswith("/api/"):
            response = web.client.request(method, concrete(path), headers=web.as_role("ingest"))
            assert response.status_code == 403, (method, path)
    batch = web.client.post("/v1/batch", json={"batch": []}, headers=web.as_role("admin"))
    assert batch.status_code == 403


def test_unknown_keys_and_bad_schemes_are_refused(web: Web) -> None:
    for header in ("Bearer nope", "Basic Zm9vOg==", "Token x", ""):
        response = web.client.get("/api/v1/customers", headers={"Authorization": header})
        assert response.status_code == 401
        assert response.json()["status"] == 401


def test_errors_are_problem_json(web: Web) -> None:
    response = web.client.get("/api/v1/customers?per_page=0", headers=web.as_role("viewer"))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["where"] == "query.per_page"
    missing = web.client.get("/api/v1/customers/999", headers=web.as_role("viewer"))
    assert missing.status_code == 404
    assert missing.json()["detail"] == "no customer with id 999"


def test_sign_in_session_csrf_and_sign_out(web: Web) -> None:
    accounts.add_user(
        web.shop.engine,
        "Mia@Example.com",
        "correct horse battery",
        Role.MARKETER,
        datetime.now(UTC),
    )
    wrong = web.client.post("/login", data={"email": "mia@example.com", "password": "nope"})
    assert wrong.headers["location"] == "/login?failed=1"
    signed = web.client.post(
        "/login", data={"email": "mia@example.com", "password": "correct horse battery"}
    )
    assert signed.status_code == 303
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert web.client.get("/").status_code == 200
    assert web.client.get("/api/v1/customers").status_code == 200
    assert web.client.post("/api/v1/plan").status_code == 403  # no CSRF token
    page = web.client.get("/").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert web.client.post("/api/v1/plan", headers={"X-CSRF-Token": token}).status_code == 200
    out = web.client.post("/logout", data={"csrf_token": token})
    assert out.headers["location"] == "/login"
    assert web.client.get("/api/v1/customers").status_code == 401


def test_sign_in_is_rate_limited(web: Web) -> None:
    accounts.add_user(
        web.shop.engine, "bo@example.com", "a long password!", Role.VIEWER, datetime.now(UTC)
    )
    for _ in range(5):
        web.client.post("/login", data={"email": "bo@example.com", "password": "guess"})
    blocked = web.client.post(
        "/login", data={"email": "bo@example.com", "password": "a long password!"}
    )
    assert blocked.status_code == 429


def test_security_headers(web: Web) -> None:
    response = web.client.get("/login")
    assert response.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in response.headers["content-security-policy"]


@pytest.mark.parametrize("password", ["short", ""])
def test_weak_passwords_are_refused(web: Web, password: str) -> None:
    with pytest.raises(Exception, match="at least 10"):
        accounts.add_user(
            web.shop.engine, "x@example.com", password, Role.VIEWER, datetime.now(UTC)
        )
