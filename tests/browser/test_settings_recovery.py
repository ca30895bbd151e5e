"""Issue 14 item 1 in Chromium: a subscriber with only a dead link gets back to their settings,
at desktop and phone sizes."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import RunningDemo, shot
from tests.browser.test_mail_and_pages import (
    PHONE,
    confirm_from_the_outbox,
    newest_email_number,
    sign_up,
)

pytestmark = pytest.mark.browser


def test_a_dead_link_leads_back_to_the_settings_by_email(page: Page, demo: RunningDemo) -> None:
    sign_up(page, demo, "ana@example.test")
    confirm_from_the_outbox(page, demo)

    page.goto(f"{demo.url}/settings/an-old-damaged-link")
    expect(page.get_by_role("heading", level=1)).to_have_text("This link is not valid")
    page.get_by_label("Your email address").fill("Ana@example.test")
    page.get_by_role("button", name="Email me my settings link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    expect(page.get_by_text("If ana@example.test has a subscription")).to_be_visible()

    newest_email_number(page, demo, re.compile("settings link"))
    page.locator("ul.links a[href*='/settings/']").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your settings")

    page.goto(f"{demo.url}/settings")
    expect(page.get_by_role("heading", level=1)).to_have_text("Email me my settings link")
    shot(page, "settings-recovery")


def test_the_settings_link_form_fits_a_phone(browser: Browser, demo: RunningDemo) -> None:
    context = browser.new_context(viewport=PHONE)
    phone = context.new_page()
    phone.goto(f"{demo.url}/settings")
    phone.get_by_role("button", name="Email me my settings link").click()  # empty: told why
    expect(phone.locator("#email-error")).to_contain_text("Please enter your email address")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(phone, "settings-recovery-phone")
    context.close()
