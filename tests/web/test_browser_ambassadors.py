"""The ambassadors page in a real browser on a phone's width (see test_browser.py for the
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
from relmark.store.referrals import code_for

from ..helpers import run_import, write_csv
from ..interact.conftest import SECRET, Shop
from .conftest import served
from .test_browser import ARGS, CHROMIUM, ON, SHOTS

pytestmark = pytest.mark.skipif(not ON, reason="browser tests are off: set RELMARK_TEST_BROWSER=1")


@pytest.fixture
def referral_site(sqlite_engine: Engine, tmp_path: Path) -> Iterator[str]:
    shop = Shop(sqlite_engine, tmp_path)
    people = ["Олена", "Тарас", "Ірина", "Богдан", "Оксана"]
    shop.customers(
        [
            [f"C{i}", f"c{i}@example.ua", "", name, "uk", "UA", "", "", "", "yes"]
            for i, name in enumerate(people)
        ]
    )
    with sqlite_engine.begin() as connection:
        code = code_for(connection, shop.id_of("C0"), datetime.now(UTC))
    header = [
        "order_id",
        "customer_id",
        "ordered_at",
        "total",
        "currency",
        "status",
        "referral_code",
    ]
    orders = [
        [f"R{i}", f"C{i}", f"2026-05-0{i}", "120.50", "UAH", "completed", code] for i in range(1, 5)
    ]
    orders[3][5] = "refunded"
    run_import(sqlite_engine, "orders", write_csv(tmp_path, "r.csv", header, orders))
    accounts.add_user(
        sqlite_engine, "vi@example.com", "correct horse battery", Role.VIEWER, datetime.now(UTC)
    )
    with served(create_app(sqlite_engine, Settings(secret_key=SECRET, shop_name="Brew"))) as url:
        yield url


def test_ambassadors_on_a_phone_in_ukrainian(referral_site: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    assert Path(CHROMIUM).exists(), f"Chromium is expected at {CHROMIUM} (apt install chromium)"
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(f"{referral_site}/login")
        page.fill("input[name=email]", "vi@example.com")
        page.fill("input[name=password]", "correct horse battery")
        page.click("button[type=submit]")
        page.goto(f"{referral_site}/ambassadors?lang=uk")

        expect(page.locator("h1")).to_have_text("Амбасадори")
        expect(page.locator("table.ambassadors tbody tr")).to_have_count(1)
        expect(page.locator("table.ambassadors tbody")).to_contain_text("Олена")
        expect(page.locator("table.referrals tbody tr")).to_have_count(4)
        expect(page.locator("table.referrals tbody")).to_contain_text("Замовлення повернуто кошти")
        page.screenshot(path=str(SHOTS / "09-ambassadors-phone.png"), full_page=True)

        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, f"the ambassadors page scrolls sideways on a phone ({width}px)"
        browser.close()
