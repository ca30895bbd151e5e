"""Push channels on the settings page, in headless Chromium against the demo: a bad address is
refused with the reason, the demo's webhook receiver is added, tested (the push shows in the
outbox), given the digest cadence and removed."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import SCREENSHOTS, RunningDemo
from tests.browser.test_mail_and_pages import confirm_from_the_outbox, newest_email_number, sign_up

pytestmark = pytest.mark.browser


def test_add_test_and_remove_a_push_channel(page: Page, demo: RunningDemo) -> None:
    assert demo.context.pushes is not None
    sign_up(page, demo, "ana@example.test")
    confirm_from_the_outbox(page, demo)
    newest_email_number(page, demo, re.compile("Your first digest"))
    page.locator("ul.links a[href*='/settings/']").first.click()
    settings_url = page.url
    expect(page.get_by_role("heading", name="Push notifications")).to_be_visible()
    address = page.get_by_label("Apprise URL")
    expect(address).to_have_value(demo.context.pushes.apprise_url)  # the demo fills it in

    address.fill("tgram://")
    page.get_by_role("button", name="Add channel").click()
    expect(page.get_by_role("alert")).to_contain_text("Apprise cannot use this tgram:// URL")
    expect(page.locator("li.channel")).to_have_count(0)

    page.get_by_label("Apprise URL").fill(demo.context.pushes.apprise_url)
    page.get_by_label("As soon as found").check()
    page.get_by_role("button", name="Add channel").click()
    expect(page.get_by_role("status")).to_contain_text("Added JSON · json://127.0.0.1")
    channel = page.locator("li.channel")
    expect(channel).to_have_count(1)
    assert "/push" not in channel.inner_text()  # only the label, never the whole address

    channel.get_by_role("button", name="Send a test message").click()
    expect(page.get_by_role("status")).to_contain_text("Test message sent to JSON")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#push").screenshot(path=str(SCREENSHOTS / "settings-push.png"))
    page.goto(f"{demo.url}/_outbox/")
    expect(page.locator("li.push").first).to_contain_text("test message")

    page.goto(settings_url)
    channel = page.locator("li.channel")
    channel.get_by_label("With my email digest").check()
    channel.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("with your email digest")
    page.locator("li.channel").get_by_role("button", name="Remove").click()
    expect(page.get_by_role("status")).to_contain_text("Removed JSON")
    expect(page.locator("li.channel")).to_have_count(0)
