"""Restriction from the API and the dashboard: who may, what it records, how staff see it,
and that API lists (read by other systems) leave restricted customers out."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select

from relmark import accounts
from relmark.accounts import Role
from relmark.store.audit import entries
from relmark.store.models import CustomerEvent

from .conftest import Web
from .test_api import shop

RESTRICT = "/api/v1/customers/{}/restrict"


def events(web: Web, customer_id: int) -> list[tuple[str, dict]]:
    with web.shop.engine.connect() as connection:
        rows = connection.execute(
            select(CustomerEvent.kind, CustomerEvent.parameters)
            .where(
                CustomerEvent.customer_id == customer_id,
                CustomerEvent.kind.in_(("processing_restricted", "restriction_lifted")),
            )
            .order_by(CustomerEvent.id)
        ).fetchall()
    return [(kind, params) for kind, params in rows]


def test_the_api_restricts_and_lifts_with_event_and_audit(web: Web) -> None:
    # given a small shop and a marketer's key
    ids = shop(web)
    ana = ids["C1"]

    # when the marketer restricts Ana with a reason, and an admin lifts it
    done = web.client.post(
        RESTRICT.format(ana),
        json={"restricted": True, "reason": "contests her address"},
        headers=web.as_role("marketer"),
    )
    view = web.client.get(f"/api/v1/customers/{ana}", headers=web.as_role("viewer")).json()
    listed = web.client.get("/api/v1/customers", headers=web.as_role("viewer")).json()
    staff = web.client.get(
        "/api/v1/customers", params={"include_restricted": True}, headers=web.as_role("viewer")
    ).json()
    lifted = web.client.post(
        RESTRICT.format(ana), json={"restricted": False}, headers=web.as_role("admin")
    )

    # then the reply says so; the 360 view shows the restriction and no score; the list for
    # other systems leaves her out, the one staff ask for marks her
    assert done.status_code == 200
    assert done.json()["restricted"] is True
    assert done.json()["reason"] == "contests her address"
    assert view["restricted"] is True
    assert view["restriction"]["reason"] == "contests her address"
    assert view["customer"]["restricted_at"] is not None
    assert view["score"] is None
    assert ana not in [c["id"] for c in listed["items"]]
    assert listed["total"] == 2
    assert {c["id"]: c["restricted"] for c in staff["items"]}[ana] is True
    assert lifted.status_code == 200
    assert lifted.json()["restricted"] is False
    # and each act is on her timeline and in the audit trail, by key, without the reason
    assert [kind for kind, _ in events(web, ana)] == ["processing_restricted", "restriction_lifted"]
    assert events(web, ana)[0][1]["reason"] == "contests her address"
    with web.shop.engine.connect() as connection:
        trail = list(reversed(entries(connection, customer_id=ana)))
    acts = [(e["action"], e["actor_kind"], e["actor"].split(" (key")[0]) for e in trail]
    assert ("customer.restrict", "key", "marketer") in acts
    assert ("customer.restrict_lift", "key", "admin") in acts
    assert all("contests" not in str(e["detail"]) for e in trail)
    after = web.client.get(f"/api/v1/customers/{ana}", headers=web.as_role("viewer")).json()
    assert after["restricted"] is False
    assert after["score"]["segment"] == "champions"


def test_only_editors_may_restrict_and_bad_requests_are_clear(web: Web) -> None:
    ids = shop(web)
    url = RESTRICT.format(ids["C2"])
    for role in ("viewer", "analyst", "ingest"):
        refused = web.client.post(url, json={"restricted": True}, headers=web.as_role(role))
        assert refused.status_code == 403, role
    assert web.client.post(url, json={"restricted": True}).status_code == 401
    unknown = web.client.post(
        RESTRICT.format(999), json={"restricted": True}, headers=web.as_role("marketer")
    )
    assert unknown.status_code == 404
    huge = web.client.post(
        RESTRICT.format(2**70), json={"restricted": True}, headers=web.as_role("marketer")
    )
    assert huge.status_code == 422  # beyond any id the store can hold: the path is refused
    long_reason = web.client.post(
        url, json={"restricted": True, "reason": "x" * 501}, headers=web.as_role("marketer")
    )
    assert long_reason.status_code == 422
    assert web.client.post(url, json={}, headers=web.as_role("marketer")).status_code == 422
    with web.shop.engine.connect() as connection:
        assert not [e for e in entries(connection) if e["action"].startswith("customer.restrict")]


def sign_in(web: Web, role: Role) -> None:
    accounts.add_user(
        web.shop.engine, f"{role}@shop.example", "a long password!", role, datetime.now(UTC)
    )
    signed = web.client.post(
        "/login", data={"email": f"{role}@shop.example", "password": "a long password!"}
    )
    assert signed.status_code == 303


def test_the_dashboard_shows_a_badge_and_restricts_with_csrf(web: Web) -> None:
    # given a marketer signed in to the dashboard
    ids = shop(web)
    bo = ids["C2"]
    sign_in(web, Role.MARKETER)
    page = web.client.get(f"/customers/{bo}?lang=sl").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert "Omeji obdelavo" in page  # the button, in Slovenian

    # when the button is posted without the CSRF token, then with it
    forged = web.client.post(f"/customers/{bo}/restrict", data={"restricted": "1"})
    done = web.client.post(
        f"/customers/{bo}/restrict",
        data={"restricted": "1", "reason": "asked by phone", "csrf_token": token},
    )

    # then the forged post changes nothing; the real one restricts and the page, the list
    # and the rows HTMX loads show the badge, with the reason and a button to lift it
    assert forged.status_code == 403
    assert done.status_code == 303
    assert done.headers["location"] == f"/customers/{bo}"
    page = web.client.get(f"/customers/{bo}?lang=sl").text
    assert 'class="badge restricted">Omejeno<' in page
    assert "Razlog: asked by phone" in page
    assert "Odpravi omejitev" in page
    listing = web.client.get("/customers?lang=sl").text
    row = next(line for line in listing.splitlines() if f'href="/customers/{bo}"' in line)
    assert "Omejeno" in row
    rows = web.client.get("/customers/rows", params={"q": "bo@"}).text
    assert "badge restricted" in rows
    with web.shop.engine.connect() as connection:
        [entry] = [e for e in entries(connection, customer_id=bo) if e["action"] != "customer.view"]
    assert (entry["action"], entry["actor_kind"], entry["actor"]) == (
        "customer.restrict",
        "user",
        "marketer@shop.example",
    )


def test_a_viewer_sees_the_badge_but_no_button(web: Web) -> None:
    ids = shop(web)
    web.client.post(
        RESTRICT.format(ids["C3"]), json={"restricted": True}, headers=web.as_role("admin")
    )
    sign_in(web, Role.VIEWER)
    page = web.client.get(f"/customers/{ids['C3']}").text
    assert 'class="badge restricted">Restricted<' in page
    assert "Lift the restriction" not in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    refused = web.client.post(
        f"/customers/{ids['C3']}/restrict", data={"restricted": "0", "csrf_token": token}
    )
    assert refused.status_code == 403
