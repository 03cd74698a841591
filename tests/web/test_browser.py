"""The dashboard in a real browser (Playwright driving Debian's Chromium).

Switched on by RELMARK_TEST_BROWSER=1 (`.ci/run` sets it and installs Chromium); then a
missing browser fails the run. Screenshots of every page go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from relmark import accounts
from relmark.accounts import Role
from relmark.config import Settings
from relmark.interfaces.web.app import create_app

from ..interact.conftest import SECRET, Shop, scores
from .conftest import served

ON = os.environ.get("RELMARK_TEST_BROWSER") == "1"
CHROMIUM = os.environ.get("RELMARK_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
pytestmark = pytest.mark.skipif(not ON, reason="browser tests are off: set RELMARK_TEST_BROWSER=1")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture
def site(sqlite_engine: Engine, tmp_path: Path) -> Iterator[str]:
    shop = Shop(sqlite_engine, tmp_path)
    shop.customers(
        [
            [f"C{i}", f"c{i}@example.si", "", name, lang, "SI", "Europe/Ljubljana", "", "", "yes"]
            for i, (name, lang) in enumerate(
                [("Ana", "sl"), ("Bo", "ms"), ("Aigerim", "kk"), ("Mykola", "uk"), ("Liza", "tl")]
            )
        ]
    )
    shop.products([["TEA", "Tea", "tea", ""]])
    shop.orders([["O1", "C0", "2026-05-31T10:00:00Z", "EUR", "completed", "TEA", 2, "4.5"]])
    segments = ["champions", "champions", "at_risk", "loyal", "lost"]
    scores(
        sqlite_engine,
        {
            shop.id_of(f"C{i}"): {"segment": s, "clv_minor": 10000 * (5 - i), "r": 5 - i, "f": 3}
            for i, s in enumerate(segments)
        },
        datetime(2026, 6, 1, tzinfo=UTC),
    )
    accounts.add_user(
        sqlite_engine, "admin@example.com", "correct horse battery", Role.ADMIN, datetime.now(UTC)
    )
    app = create_app(sqlite_engine, Settings(secret_key=SECRET, shop_name="Brew & Co"))
    with served(app) as url:
        yield url


def test_the_dashboard_end_to_end(site: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    assert Path(CHROMIUM).exists(), f"Chromium is expected at {CHROMIUM} (apt install chromium)"
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})

        def shot(name: str) -> None:
            page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

        page.goto(f"{site}/customers")
        expect(page).to_have_url(f"{site}/login")
        page.fill("input[name=email]", "admin@example.com")
        page.fill("input[name=password]", "correct horse battery")
        page.click("button[type=submit]")
        expect(page.locator("h1")).to_have_text("Overview")
        expect(page.locator("svg.chart")).to_have_count(5)
        shot("01-overview")

        page.click("table a >> text=Champions")
        expect(page.locator("h1")).to_have_text("Champions")
        expect(page.locator("#rows tr")).to_have_count(3)  # two customers and the total
        shot("02-segment")

        page.fill("input[type=search]", "ana")
        expect(page.locator("#rows tr")).to_have_count(2)  # HTMX replaced the rows
        page.click("#rows a >> text=Ana")
        expect(page.locator("h1")).to_contain_text("Ana")
        expect(page.locator(".timeline li")).not_to_have_count(0)
        shot("03-customer")

        page.click("text=Қазақша")
        expect(page.locator("nav")).to_contain_text("Шолу")
        expect(page.locator("h2", has_text="Келісімдер")).to_have_count(1)
        shot("04-customer-kazakh")
        page.goto(f"{site}/?lang=en")

        page.click("nav >> text=Playbooks")
        page.click("#preview-vip-gift >> xpath=.. >> button")
        expect(page.locator("#preview-vip-gift")).to_contain_text("If planned now")
        shot("05-playbooks")

        bad = tmp_path / "people.csv"
        bad.write_text(
            "customer_id,email,birthday\nN1,n1@example.com,1990-01-01\nN2,n2@example.com,1990-02-30\n"
        )
        page.click("nav >> text=Imports")
        page.select_option("select[name=kind]", "customers")
        page.set_input_files("input[type=file]", str(bad))
        page.click("form >> text=Import")
        expect(page.locator("table.problems")).to_contain_text("birthday")
        expect(page.locator("table.problems td").first).to_have_text("3")
        shot("06-import-errors")

        page.set_viewport_size({"width": 390, "height": 844})
        page.click("nav >> text=Overview")
        shot("07-overview-phone")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, f"the overview scrolls sideways on a phone ({width}px)"
        browser.close()
