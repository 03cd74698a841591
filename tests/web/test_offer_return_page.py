"""The dashboard's playbooks page shows each playbook's return on its offers (with its
interval) in the reader's language, or why there is none."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from relmark import accounts
from relmark.accounts import Role
from relmark.interfaces.web.pages import Formats

from ..interact.test_offer_return import bulk_shop
from .conftest import Web


def test_the_playbooks_page_shows_the_return_on_offers(web: Web) -> None:
    bulk_shop(web.shop.engine, "win-back", treated=60, control=60, seed=5)
    bulk_shop(web.shop.engine, "at-risk-discount", treated=5, control=0, seed=6)
    accounts.add_user(
        web.shop.engine, "vi@shop.example", "correct horse battery", Role.VIEWER, datetime.now(UTC)
    )
    web.client.post(
        "/login", data={"email": "vi@shop.example", "password": "correct horse battery"}
    )
    row = web.client.get("/api/v1/reports/uplift", headers=web.as_role("viewer")).json()
    [win_back] = [r for r in row["playbooks"] if r["playbook"] == "win-back"]
    page = web.client.get("/playbooks?lang=sl").text
    assert "Donos ponudb" in page
    shown = Formats("sl").number(win_back["return_on_cost"], 2)
    assert re.search(rf">{re.escape(shown)}<br><small>", page)
    assert "Ni kontrolne skupine za primerjavo" in page  # at-risk-discount: nobody held out
