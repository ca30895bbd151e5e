"""The feed links on the settings page, read over HTTP and rotated, in headless Chromium."""

from __future__ import annotations

import re

import feedparser
import pytest
from icalendar import Calendar
from playwright.sync_api import Page, expect

from tests.browser.conftest import RunningDemo, shot
from tests.browser.test_mail_and_pages import confirm_from_the_outbox, newest_email_number, sign_up

pytestmark = pytest.mark.browser


def feed_links(page: Page) -> tuple[str, str]:
    """The (Atom, iCalendar) addresses the settings page links to."""
    atom = page.get_by_role("link", name="Atom feed").get_attribute("href")
    ical = page.get_by_role("link", name="Calendar (iCalendar)").get_attribute("href")
    assert atom and ical
    return atom, ical


def test_settings_link_the_feeds_and_making_new_addresses_retires_the_old_ones(
    page: Page, demo: RunningDemo
) -> None:
    sign_up(page, demo, "ana@example.test")
    confirm_from_the_outbox(page, demo)
    newest_email_number(page, demo, re.compile("Your first digest"))
    page.locator("ul.links a[href*='/settings/']").first.click()
    expect(page.get_by_role("heading", name="Feeds")).to_be_visible()
    atom, ical = feed_links(page)
    assert atom.startswith(f"{demo.url}/feeds/") and ical.endswith(".ics")
    feed = feedparser.parse(page.request.get(atom).body())
    assert not feed.bozo and feed.entries, feed
    assert all(entry.link.startswith("https://open.spotify.com/") for entry in feed.entries)
    calendar = Calendar.from_ical(page.request.get(ical).body())
    assert calendar.walk("VEVENT")

    page.get_by_role("button", name="Make new feed addresses").click()
    expect(page.get_by_role("status")).to_contain_text("the old ones no longer work")
    new_atom, new_ical = feed_links(page)
    assert {new_atom, new_ical}.isdisjoint({atom, ical})
    assert [page.request.get(url).status for url in (atom, ical)] == [404, 404]
    assert [page.request.get(url).status for url in (new_atom, new_ical)] == [200, 200]
    shot(page, "settings-feeds")
