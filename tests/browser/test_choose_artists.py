"""Issue 16 in Chromium: signing up by choosing artists (search, a pasted link, a list), with
only an email address, at desktop and phone sizes."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import RunningDemo, shot
from tests.browser.test_mail_and_pages import PHONE, confirm_from_the_outbox, newest_email_number

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1000, "height": 900}


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_choosing_artists_with_only_an_email_address(
    browser: Browser, demo: RunningDemo, viewport: dict[str, int]
) -> None:
    size = "phone" if viewport is PHONE else "desktop"
    assert demo.context.catalogue is not None
    kestrel = demo.context.catalogue.artists["Kestrel Vale"]
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(20_000)

    page.goto(demo.url)
    page.get_by_role("link", name="Choose artists").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose your artists")
    page.get_by_label("Artist name").fill("nova reed")
    page.get_by_role("button", name="Search").click()
    results = page.locator("#results li")
    expect(results).to_have_count(2)  # the two Nova Reeds, told apart by picture and genre
    expect(results.first).to_contain_text("indie pop")
    expect(results.first.locator("img.face")).to_be_visible()
    results.first.get_by_role("button", name="Add Nova Reed").click()
    expect(page.locator("#chosen li")).to_have_count(1)

    page.get_by_label("Links or names, one a line").fill(
        f"https://open.spotify.com/intl-fr/artist/{kestrel}?si=share\nWren Atlas\nNo Such Band"
    )
    page.get_by_role("button", name="Add these").click()
    report = page.locator("#report")
    expect(report).to_contain_text("Added: Kestrel Vale, Wren Atlas.")
    expect(report).to_contain_text("No Such Band: no artist of that name on Spotify")
    expect(page.locator("#chosen li")).to_have_count(3)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    shot(page, f"choose-artists-{size}")

    page.get_by_label("Your email address").fill(f"chooser-{size}@example.test")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    confirm_from_the_outbox(page, demo)
    newest_email_number(page, demo, re.compile("Your first digest"))
    page.locator("ul.links a[href*='/settings/']").first.click()
    expect(page.get_by_text("You chose 3 artists.").first).to_be_visible()
    page.get_by_role("link", name="See and change your artists").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your artists")
    page.get_by_role("button", name="Remove Wren Atlas").click()
    expect(page.get_by_role("status")).to_contain_text("Removed Wren Atlas.")
    expect(page.locator("#chosen li")).to_have_count(2)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    shot(page, f"your-artists-{size}")
    context.close()
