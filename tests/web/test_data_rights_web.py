"""Data rights over HTTP: the export (admin) and correction (marketer) in the API and the
dashboard, the audit page (admin), and the trail of 360 views, policy and playbook changes
with who and from where."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import UTC, datetime

from relmark import accounts
from relmark.accounts import Role
from relmark.store.audit import entries

from ..interact.conftest import book
from .conftest import Web

ANA = ["C1", "ana@example.si", "", "Ana", "sl", "SI", "Europe/Ljubljana", "1990-01-02", "", "yes"]


# The fixture creates one key per role, in Role's order: admin is key 1, marketer 2, viewer 4.


def ana(web: Web) -> int:
    web.shop.customers([ANA])
    return web.shop.id_of("C1")


def trail(web: Web, **filters: object) -> list[dict]:
    with web.shop.engine.connect() as connection:
        return entries(connection, **filters)  # type: ignore[arg-type]


def sign_in(web: Web, email: str, role: Role) -> str:
    """A signed-in browser of `role`; returns its CSRF token."""
    accounts.add_user(web.shop.engine, email, "correct horse battery", role, datetime.now(UTC))
    web.client.post("/login", data={"email": email, "password": "correct horse battery"})
    page = web.client.get("/").text
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def test_an_admin_downloads_a_customers_export(web: Web) -> None:
    customer = ana(web)

    response = web.client.get(f"/api/v1/customers/{customer}/export", headers=web.as_role("admin"))

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert f'filename="customer-{customer}.zip"' in response.headers["content-disposition"]
    bundle = zipfile.ZipFile(io.BytesIO(response.content))
    data = json.loads(bundle.read("data.json"))
    assert data["sections"]["profiles"][0]["email"] == "ana@example.si"
    assert "Vaši osebni podatki" in bundle.read("README.txt").decode()
    [entry] = trail(web, customer_id=customer)
    assert (entry["action"], entry["actor_kind"], entry["actor"], entry["origin"]) == (
        "customer.export",
        "key",
        "admin (key 1)",
        "testclient",
    )


def test_only_admins_export_and_bad_ids_are_client_errors(web: Web) -> None:
    customer = ana(web)

    marketer = web.client.get(
        f"/api/v1/customers/{customer}/export", headers=web.as_role("marketer")
    )
    unknown = web.client.get("/api/v1/customers/999/export", headers=web.as_role("admin"))
    huge = web.client.get(f"/api/v1/customers/{2**70}/export", headers=web.as_role("admin"))

    assert marketer.status_code == 403
    assert unknown.status_code == 404
    assert huge.status_code == 422
    assert trail(web) == []


def test_the_api_corrects_a_profile_and_refuses_bad_values(web: Web) -> None:
    customer = ana(web)
    url = f"/api/v1/customers/{customer}"

    fixed = web.client.patch(
        url, json={"last_name": "Novak", "phone": "031 555 123"}, headers=web.as_role("marketer")
    )
    analyst = web.client.patch(url, json={"last_name": "X"}, headers=web.as_role("analyst"))
    bad = web.client.patch(url, json={"birthday": "1990-02-30"}, headers=web.as_role("admin"))
    unknown = web.client.patch(url, json={"segment": "vip"}, headers=web.as_role("admin"))
    cleared = web.client.patch(url, json={"phone": None}, headers=web.as_role("admin"))

    assert fixed.status_code == 200
    body = fixed.json()
    assert body["changed"] == ["last_name", "phone"]
    assert body["profile"]["phone"] == "+38631555123"  # read in Ana's country, as E.164
    assert analyst.status_code == 403
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["column"] == "birthday"
    assert unknown.status_code == 422
    assert cleared.json()["changed"] == ["phone"]
    assert cleared.json()["profile"]["phone"] is None
    assert [(e["action"], e["detail"]) for e in trail(web, customer_id=customer)] == [
        ("customer.rectify", {"fields": ["phone"]}),
        ("customer.rectify", {"fields": ["last_name", "phone"]}),
    ]


def test_views_of_a_customer_are_in_the_trail_with_who_and_from_where(web: Web) -> None:
    customer = ana(web)
    sign_in(web, "mia@shop.example", Role.VIEWER)

    web.client.get(f"/customers/{customer}")
    web.client.get(f"/api/v1/customers/{customer}", headers=web.as_role("viewer"))

    views = [(e["action"], e["actor_kind"], e["actor"]) for e in trail(web, customer_id=customer)]
    assert views == [
        ("customer.view", "key", "viewer (key 4)"),
        ("customer.view", "user", "mia@shop.example"),
    ]


def test_the_dashboard_form_corrects_a_profile_with_csrf(web: Web) -> None:
    customer = ana(web)
    token = sign_in(web, "mia@shop.example", Role.MARKETER)
    page = web.client.get(f"/customers/{customer}")
    assert f'href="/customers/{customer}/edit"' in page.text
    assert "/export" not in page.text  # exporting is for admins
    form = web.client.get(f"/customers/{customer}/edit?lang=sl")
    assert form.status_code == 200
    assert "Popravi profil" in form.text
    assert 'value="1990-01-02"' in form.text
    fields = dict(re.findall(r'<input name="(\w+)" value="([^"]*)"', form.text))

    forged = web.client.post(f"/customers/{customer}/edit", data={**fields, "city": "Bled"})
    bad = web.client.post(
        f"/customers/{customer}/edit", data={**fields, "csrf_token": token, "email": "n/a"}
    )
    saved = web.client.post(
        f"/customers/{customer}/edit", data={**fields, "csrf_token": token, "city": "Bled"}
    )

    assert forged.status_code == 403
    assert bad.status_code == 200
    assert "placeholder" in bad.text
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/customers/{customer}"
    assert "Bled" in web.client.get(f"/customers/{customer}").text
    fixes = [e for e in trail(web, customer_id=customer) if e["action"] == "customer.rectify"]
    assert [(e["actor"], e["detail"]) for e in fixes] == [
        ("mia@shop.example", {"fields": ["city"]})
    ]


def test_the_audit_page_is_for_admins(web: Web) -> None:
    customer = ana(web)
    web.client.get(f"/api/v1/customers/{customer}/export", headers=web.as_role("admin"))
    sign_in(web, "mia@shop.example", Role.MARKETER)
    assert 'href="/audit"' not in web.client.get("/").text
    assert web.client.get("/audit").status_code == 403
    web.client.cookies.clear()
    sign_in(web, "root@shop.example", Role.ADMIN)

    page = web.client.get("/audit?lang=uk&customer=ana@example.si")
    since = web.client.get("/audit?since=2999-01-01")
    bad = web.client.get("/audit?since=June&customer=nobody")

    assert page.status_code == 200
    assert 'href="/audit"' in page.text
    assert "Журнал аудиту" in page.text
    assert "customer.export" in page.text
    assert "customer.export" not in since.text
    assert "no customer with id or e-mail" in bad.text


def test_policy_and_playbook_changes_name_their_author(web: Web) -> None:
    token = sign_in(web, "mia@shop.example", Role.MARKETER)
    folder = web.shop.folder / "books"
    folder.mkdir()
    (folder / "promo.toml").write_text(book("promo"), encoding="utf-8")
    web.client.app.state.interaction.playbooks_dir = folder

    web.client.post(
        "/settings",
        data={
            "csrf_token": token,
            "max_per_7_days": "1",
            "max_per_30_days": "4",
            "min_hours_between": "48",
            "quiet_start": "21:00",
            "quiet_end": "08:00",
        },
    )
    web.client.post("/api/v1/playbooks/promo/disable", headers=web.as_role("marketer"))

    assert [(e["action"], e["actor"]) for e in trail(web)] == [
        ("playbook.disable", "marketer (key 2)"),
        ("policy.change", "mia@shop.example"),
    ]


def test_the_field_labels_of_the_form_are_translated() -> None:
    from relmark.interfaces.web.access_api import FIELD_LABELS
    from relmark.interfaces.web.i18n import translations

    for language in ("ms", "kk", "tl", "uk", "sl"):
        catalog = translations(language)
        untranslated = [v for v in FIELD_LABELS.values() if catalog.gettext(v) == v]
        assert untranslated == [], language
