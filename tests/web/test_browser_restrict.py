"""Restricting a customer from the dashboard in a real browser (see test_browser.py for
the switch and the screenshots folder)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .test_browser import ARGS, CHROMIUM, ON, SHOTS, site  # noqa: F401 - the fixture

pytestmark = pytest.mark.skipif(not ON, reason="browser tests are off: set RELMARK_TEST_BROWSER=1")


def test_restrict_and_lift_from_the_customer_page(site: str) -> None:  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    assert Path(CHROMIUM).exists(), f"Chromium is expected at {CHROMIUM} (apt install chromium)"
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        # given an admin signed in, on Ana's page
        page.goto(f"{site}/login")
        page.fill("input[name=email]", "admin@example.com")
        page.fill("input[name=password]", "correct horse battery")
        page.click("button[type=submit]")
        page.goto(f"{site}/customers?q=ana")
        page.click("#rows a >> text=Ana")
        expect(page.locator("h1 .badge")).to_have_count(0)

        # when she is restricted with a reason
        page.fill("form.restrict input[name=reason]", "asked by e-mail")
        page.click("form.restrict button")

        # then the page says so, with the reason, and the list shows the badge
        expect(page.locator("h1 .badge.restricted")).to_have_text("Restricted")
        expect(page.locator("p.restriction")).to_contain_text("asked by e-mail")
        page.screenshot(path=str(SHOTS / "06-customer-restricted.png"), full_page=True)
        page.goto(f"{site}/customers")
        expect(page.locator("#rows tr", has_text="Ana").locator(".badge")).to_have_text(
            "Restricted"
        )

        # and lifting it from the page removes the badge
        page.click("#rows a >> text=Ana")
        page.click("form.restrict button >> text=Lift the restriction")
        expect(page.locator("h1 .badge")).to_have_count(0)
        browser.close()
