"""The loyalty pages in a real browser on a phone's width, in Kazakh: the member card on the
customer 360 and the liability table on /loyalty, neither scrolling sideways."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from relmark import accounts
from relmark.accounts import Role
from relmark.config import Settings
from relmark.interfaces.web.app import create_app

from ..interact.conftest import SECRET
from .conftest import served
from .test_browser import ARGS, CHROMIUM, ON, SHOTS
from .test_loyalty_pages import member

pytestmark = pytest.mark.skipif(not ON, reason="browser tests are off: set RELMARK_TEST_BROWSER=1")


@pytest.fixture
def loyalty_site(sqlite_engine: Engine) -> Iterator[tuple[str, int]]:
    anna, _granted = member(sqlite_engine)
    accounts.add_user(
        sqlite_engine, "an@example.com", "correct horse battery", Role.ANALYST, datetime.now(UTC)
    )
    with served(create_app(sqlite_engine, Settings(secret_key=SECRET, shop_name="Brew"))) as url:
        yield url, anna


def test_member_card_and_liability_on_a_phone_in_kazakh(loyalty_site: tuple[str, int]) -> None:
    from playwright.sync_api import expect, sync_playwright

    site, anna = loyalty_site
    assert Path(CHROMIUM).exists(), f"Chromium is expected at {CHROMIUM} (apt install chromium)"
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(f"{site}/login")
        page.fill("input[name=email]", "an@example.com")
        page.fill("input[name=password]", "correct horse battery")
        page.click("button[type=submit]")

        page.goto(f"{site}/customers/{anna}?lang=kk")
        expect(page.locator("#loyalty h2")).to_have_text("Мүше картасы")
        expect(page.locator("#loyalty [data-points]")).to_have_text("290")
        expect(page.locator("#loyalty table.ledger")).to_contain_text("Қолмен берілді")
        expect(page.locator("#offers")).to_contain_text("Ұпайға алынған сыйлық")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, f"the customer 360 scrolls sideways on a phone ({width}px)"
        page.screenshot(path=str(SHOTS / "10-member-card-phone.png"), full_page=True)

        page.click("nav a[href='/loyalty']")
        expect(page.locator("h1")).to_have_text("Лоялдық")
        expect(page.locator("#liability [data-points]")).to_have_text("290")
        expect(page.locator("table.rewards tbody tr")).to_have_count(3)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, f"/loyalty scrolls sideways on a phone ({width}px)"
        page.screenshot(path=str(SHOTS / "11-loyalty-phone.png"), full_page=True)
        browser.close()
