"""Data rights in a real browser: an admin corrects a profile, downloads the export and
finds both acts on the audit page (RELMARK_TEST_BROWSER=1, like tests/web/test_browser.py)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from .test_browser import ARGS, CHROMIUM, ON, SHOTS, site  # noqa: F401 (site is a fixture)

pytestmark = pytest.mark.skipif(not ON, reason="browser tests are off: set RELMARK_TEST_BROWSER=1")


def test_correct_export_and_audit_in_the_browser(site: str, tmp_path: Path) -> None:  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        page.goto(f"{site}/login")
        page.fill("input[name=email]", "admin@example.com")
        page.fill("input[name=password]", "correct horse battery")
        page.click("button[type=submit]")
        page.goto(f"{site}/customers?q=ana")
        page.click("#rows a >> text=Ana")

        # the admin corrects Ana's city through the form
        page.click("text=Correct the profile")
        page.fill("input[name=city]", "Bled")
        page.fill("input[name=last_name]", "Novak")
        page.screenshot(path=str(SHOTS / "20-correct-profile.png"), full_page=True)
        page.click("text=Save corrections")
        expect(page.locator("h1")).to_have_text("Ana Novak")
        expect(page.locator("main p").first).to_contain_text("Bled")

        # and downloads everything held about her
        with page.expect_download() as download:
            page.click("text=Export all data (zip)")
        saved = tmp_path / "ana.zip"
        download.value.save_as(saved)
        data = json.loads(zipfile.ZipFile(saved).read("data.json"))
        assert data["sections"]["profiles"][0]["city"] == "Bled"

        # and the audit page lists the view, the correction and the export, newest first
        page.click("nav >> text=Audit")
        rows = page.locator("tbody tr td:nth-child(4)")
        expect(rows.first).to_have_text("customer.export")
        assert "customer.rectify" in rows.all_inner_texts()
        assert "customer.view" in rows.all_inner_texts()
        page.screenshot(path=str(SHOTS / "21-audit.png"), full_page=True)

        # and on a phone, in Ukrainian, neither page scrolls sideways (wide tables scroll
        # inside themselves)
        page.set_viewport_size({"width": 390, "height": 844})
        customer = page.locator("tbody tr td:nth-child(5) a").first.get_attribute("href")
        for path in ("/audit?lang=uk", f"{customer}?lang=uk"):
            page.goto(f"{site}{path}")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 400, f"{path} scrolls sideways on a phone ({width}px)"
        page.screenshot(path=str(SHOTS / "22-customer-phone-ukrainian.png"), full_page=True)
        browser.close()
