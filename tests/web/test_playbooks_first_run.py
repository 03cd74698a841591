"""The dashboard's playbooks page says which playbooks wait for their offer, in the viewer's
language, and the toggle is the explicit switch that lets them run."""

from __future__ import annotations

from relmark.accounts import Role

from .conftest import Web
from .test_data_rights_web import sign_in


def test_playbooks_page_shows_offers_waiting_and_enabling_lets_them_run(web: Web) -> None:
    token = sign_in(web, "mia@shop.example", Role.MARKETER)

    page = web.client.get("/playbooks?lang=sl")

    assert page.status_code == 200
    assert page.text.count("Najprej nastavite ponudbo") == 5  # the five shipped offers
    toggled = web.client.post(
        "/playbooks/vip-gift/toggle", data={"csrf_token": token, "enabled": "1"}
    )
    assert toggled.status_code == 303
    assert web.client.get("/playbooks").text.count("Najprej nastavite ponudbo") == 4
    listed = {
        p["name"]: p
        for p in web.client.get("/api/v1/playbooks", headers=web.as_role("viewer")).json()
    }
    assert (listed["vip-gift"]["enabled"], listed["vip-gift"]["reason"]) == (True, None)
    assert listed["win-back"]["reason"] == "configure the offer first"

    web.client.post("/playbooks/vip-gift/toggle", data={"csrf_token": token, "enabled": "0"})
    assert "Onemogočeno v tej trgovini" in web.client.get("/playbooks").text
