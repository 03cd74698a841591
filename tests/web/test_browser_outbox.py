"""The outbox drill-down in a real browser, on a phone's width (see test_browser.py for the
switch and the screenshots folder)."""

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

from ..interact.conftest import SECRET, Shop
from ..interact.outbox_seed import seed
from .conftest import served
from .test_browser import ARGS, CHROMIUM, ON, SHOTS

pytestmark = pytest.mark.skipif(not ON, reason="browser tests are off: set RELMARK_TEST_BROWSER=1")


@pytest.fixture
def outbox_site(sqlite_engine: Engine, tmp_path: Path) -> Iterator[str]:
    seed(Shop(sqlite_engine, tmp_path))
    accounts.add_user(
        sqlite_engine, "vi@example.com", "correct horse battery", Role.VIEWER, datetime.now(UTC)
    )
    with served(create_app(sqlite_engine, Settings(secret_key=SECRET, shop_name="Brew"))) as url:
        yield url


def test_drill_down_on_a_phone_in_kazakh(outbox_site: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    assert Path(CHROMIUM).exists(), f"Chromium is expected at {CHROMIUM} (apt install chromium)"
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(f"{outbox_site}/login")
        page.fill("input[name=email]", "vi@example.com")
        page.fill("input[name=password]", "correct horse battery")
        page.click("button[type=submit]")
        page.goto(f"{outbox_site}/outbox?lang=kk")

        # the count of expired birthdays leads to the one message behind it
        row = page.locator("tbody tr", has=page.locator("code", has_text="expired")).filter(
            has_text="birthday"
        )
        row.locator("td.num a").click()
        expect(page.locator("table.messages tbody tr")).to_have_count(1)
        expect(page.locator("table.messages tbody")).to_contain_text("Айгерим")
        expect(page.locator("table.messages tbody")).to_contain_text(
            "Бұл оқиға relmark жұмыс істемей тұрғанда өтіп кетті"
        )
        page.screenshot(path=str(SHOTS / "08-outbox-messages-phone.png"), full_page=True)

        # the wide table scrolls inside its own box; the page never scrolls sideways
        page.goto(f"{outbox_site}/outbox/messages?lang=kk")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, f"the outbox list scrolls sideways on a phone ({width}px)"
        table = page.evaluate(
            "(() => { const t = document.querySelector('table.messages');"
            " return [t.scrollWidth, t.clientWidth]; })()"
        )
        assert table[0] > table[1], f"the table does not scroll inside its box: {table}"
        browser.close()
