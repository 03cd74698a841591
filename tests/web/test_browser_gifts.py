"""The pick list in a real browser on a phone's width, in Ukrainian: a marketer marks a due
gift as sent with the order filled in, and the page never scrolls sideways."""

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

from ..gift_shop import gift_shop
from ..interact.conftest import SECRET
from .conftest import served
from .test_browser import ARGS, CHROMIUM, ON, SHOTS

pytestmark = pytest.mark.skipif(not ON, reason="browser tests are off: set RELMARK_TEST_BROWSER=1")


@pytest.fixture
def gifts_site(sqlite_engine: Engine) -> Iterator[str]:
    gift_shop(sqlite_engine)
    accounts.add_user(
        sqlite_engine, "ma@example.com", "correct horse battery", Role.MARKETER, datetime.now(UTC)
    )
    with served(create_app(sqlite_engine, Settings(secret_key=SECRET, shop_name="Brew"))) as url:
        yield url


def test_marking_a_gift_sent_on_a_phone_in_ukrainian(gifts_site: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    assert Path(CHROMIUM).exists(), f"Chromium is expected at {CHROMIUM} (apt install chromium)"
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(f"{gifts_site}/login")
        page.fill("input[name=email]", "ma@example.com")
        page.fill("input[name=password]", "correct horse battery")
        page.click("button[type=submit]")
        page.goto(f"{gifts_site}/gifts?due=1&lang=uk")
        expect(page.locator("li.pick")).to_have_count(1)
        expect(page.locator("li.pick")).to_contain_text("Дегустаційний набір чаю (5 видів)")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, f"the pick list scrolls sideways on a phone ({width}px)"
        page.screenshot(path=str(SHOTS / "09-gifts-phone.png"), full_page=True)

        expect(page.locator("li.pick input[name=order]")).to_have_value("1002")
        page.locator("li.pick button[type=submit]").click()
        expect(page.locator("p[role=status]")).to_contain_text("GIFT-AAAA2222")
        expect(page.locator("li.pick")).to_have_count(0)  # nothing else is due
        expect(page.locator("ul.picks")).to_contain_text("Немає подарунків до відправлення.")
        browser.close()
