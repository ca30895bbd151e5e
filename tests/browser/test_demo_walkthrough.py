"""A newcomer's first minute in the demo: sign up, authorize, confirm, read, adjust, leave."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import RunningDemo, shot

pytestmark = pytest.mark.browser


def open_newest_email(page: Page, demo: RunningDemo, subject: re.Pattern[str]) -> None:
    """Open the outbox and the newest email with this subject, once the queue has sent it
    (the outbox reloads itself while the locator waits)."""
    page.goto(f"{demo.url}/_outbox/")
    page.get_by_role("link", name=subject).first.click()
    expect(page.locator("h1.subject")).to_have_text(subject)


def test_signup_authorize_confirm_read_adjust_and_unsubscribe(
    page: Page, demo: RunningDemo
) -> None:
    page.goto(demo.url)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Never miss a release")
    shot(page, "01-signup")

    page.get_by_label("Your email address").fill("not-an-address")
    page.get_by_role("button", name="Connect Spotify").click()
    expect(page.locator("#email-error")).to_contain_text("does not look like an email")
    assert page.url.rstrip("/") == demo.url

    page.get_by_label("Your email address").fill("ana@example.test")
    page.get_by_role("button", name="Connect Spotify").click()
    expect(page).to_have_url(re.compile(re.escape(demo.context.emulator.base_url) + "/authorize"))
    page.get_by_label(re.compile(r"^\s*Ana \(ana\)")).check()
    shot(page, "02-spotify-consent")
    page.get_by_role("button", name="Agree").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    shot(page, "03-check-your-inbox")

    open_newest_email(page, demo, re.compile("Confirm your"))
    shot(page, "04-confirmation-email")
    page.locator("ul.links a[href*='/confirm/']").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your address")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You're subscribed")
    shot(page, "05-confirmed")

    open_newest_email(page, demo, re.compile("Your first digest"))
    shot(page, "06-digest-in-outbox")
    number = page.url.rstrip("/").rsplit("/", 1)[-1]
    page.goto(f"{demo.url}/_outbox/{number}/html")
    expect(page.get_by_text("Glasshouse").first).to_be_visible()
    expect(page.get_by_text("Northern Lights Hymnal").first).to_be_visible()
    shot(page, "07-digest")

    page.go_back()
    page.locator("ul.links a[href*='/settings/']").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your settings")
    page.get_by_label("Every week").check()
    page.get_by_label("Compilations").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    expect(page.get_by_label("Every week")).to_be_checked()
    shot(page, "08-settings-saved")

    page.get_by_role("link", name="Unsubscribe").click()
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You're unsubscribed")
    shot(page, "09-unsubscribed")


def test_an_account_that_is_not_allowlisted_is_told_what_to_do(
    page: Page, demo: RunningDemo
) -> None:
    page.goto(demo.url)
    page.get_by_label("Your email address").fill("dana@example.test")
    page.get_by_role("button", name="Connect Spotify").click()
    page.get_by_label(re.compile(r"^\s*Dana \(dana\)")).check()
    page.get_by_role("button", name="Agree").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("not on this service's list")
    expect(page.get_by_text("User Management")).to_be_visible()
    shot(page, "10-not-allowlisted")


def test_cancelling_at_spotify_explains_that_nothing_was_set_up(
    page: Page, demo: RunningDemo
) -> None:
    page.goto(demo.url)
    page.get_by_label("Your email address").fill("ben@example.test")
    page.get_by_role("button", name="Connect Spotify").click()
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Spotify access was not granted")
    shot(page, "11-consent-cancelled")


def test_the_signup_page_fits_a_phone(browser: object, demo: RunningDemo) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})  # type: ignore[attr-defined]
    phone = context.new_page()
    phone.goto(demo.url)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    shot(phone, "12-signup-phone")
    context.close()
