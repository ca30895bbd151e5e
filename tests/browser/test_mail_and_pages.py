"""The emails at phone width, and the pages around a subscription, in headless Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import RunningDemo, shot

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser: Browser, demo: RunningDemo) -> Iterator[Page]:
    """A second tab at a phone's width, for the same demo."""
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def newest_email_number(page: Page, demo: RunningDemo, subject: re.Pattern[str]) -> str:
    """The outbox number of the newest email with this subject, once the queue has sent it."""
    page.goto(f"{demo.url}/_outbox/")
    page.get_by_role("link", name=subject).first.click()
    expect(page.locator("h1.subject")).to_have_text(subject)
    return page.url.rstrip("/").rsplit("/", 1)[-1]


def sign_up(page: Page, demo: RunningDemo, email: str) -> None:
    """Signup form, then consent at the emulated Spotify as Ana: ends at "Check your inbox"."""
    page.goto(demo.url)
    page.get_by_label("Your email address").fill(email)
    page.get_by_role("button", name="Connect Spotify").click()
    page.get_by_label(re.compile(r"^\s*Ana \(ana\)")).check()
    page.get_by_role("button", name="Agree").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")


def confirm_from_the_outbox(page: Page, demo: RunningDemo) -> None:
    newest_email_number(page, demo, re.compile("Confirm your"))
    page.locator("ul.links a[href*='/confirm/']").click()
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You're subscribed")


def width_of_email(phone: Page, demo: RunningDemo, number: str) -> int:
    """The rendered width of an email's HTML part in a phone-sized window."""
    phone.goto(f"{demo.url}/_outbox/{number}/html")
    return int(phone.evaluate("document.documentElement.scrollWidth"))


def test_the_confirmation_email_and_the_digest_fit_a_phone(
    page: Page, phone: Page, demo: RunningDemo
) -> None:
    sign_up(page, demo, "ana@example.test")
    confirmation = newest_email_number(page, demo, re.compile("Confirm your"))
    assert width_of_email(phone, demo, confirmation) <= PHONE["width"]
    expect(phone.locator(".long-link")).to_contain_text("/confirm/")
    shot(phone, "confirm-phone")

    confirm_from_the_outbox(page, demo)
    digest = newest_email_number(page, demo, re.compile("Your first digest"))
    assert width_of_email(phone, demo, digest) <= PHONE["width"]
    shot(phone, "digest-phone")


def test_the_rate_limit_page_says_what_to_do_in_the_sites_style(
    page: Page, demo: RunningDemo
) -> None:
    for n in range(6):
        page.goto(demo.url)
        page.get_by_label("Your email address").fill(f"person{n}@example.test")
        page.get_by_role("button", name="Connect Spotify").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Slow down a little")
    expect(page.get_by_text("Wait a minute, then try again")).to_be_visible()
    expect(page.locator("header.site .brand")).to_have_text("Release Notifier")
    expect(page.get_by_role("link", name="Back to the start")).to_be_visible()
    shot(page, "rate-limited")


def test_settings_say_what_we_know_and_unsubscribing_offers_a_way_back(
    page: Page, demo: RunningDemo
) -> None:
    sign_up(page, demo, "ana@example.test")
    confirm_from_the_outbox(page, demo)
    newest_email_number(page, demo, re.compile("Your first digest"))  # the follows were read
    page.locator("ul.links a[href*='/settings/']").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your settings")
    expect(page.get_by_text(re.compile(r"You follow \d+ artists on Spotify"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"list last read \d+ \w+ \d{4}"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"Next digest: \w+day \d+ \w+ \d{4}"))).to_be_visible()
    shot(page, "settings")

    page.get_by_role("link", name="Unsubscribe").click()
    expect(page.get_by_role("heading", name="Or hear from us less")).to_be_visible()
    expect(page.get_by_role("button", name="One digest a month")).to_be_visible()
    expect(page.get_by_role("button", name="Pause digests")).to_be_visible()
    shot(page, "unsubscribe")
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You're unsubscribed")
    expect(page.get_by_role("link", name="Delete my data")).to_be_visible()
    shot(page, "unsubscribed")

    page.get_by_role("link", name="Your settings").click()
    expect(page.get_by_text("You are unsubscribed: we send nothing")).to_be_visible()
    expect(page.get_by_role("button", name="Pause digests")).to_have_count(0)
    page.get_by_role("button", name="Resubscribe").click()
    expect(page.get_by_role("status")).to_have_text("Welcome back: digests are on again.")
    expect(page.get_by_text(re.compile(r"Digests go to ana@example\.test"))).to_be_visible()


FRAME_FITS = """() => {
  const frame = document.querySelector("iframe.email");
  const email = frame && frame.contentDocument;
  return email && email.readyState === "complete" && email.body && email.body.innerText.length > 0
    && Math.abs(frame.clientHeight - email.documentElement.scrollHeight) <= 1;
}"""


def test_the_demo_pages_lead_to_the_outbox_and_its_frame_fits_the_email(
    page: Page, demo: RunningDemo
) -> None:
    page.goto(f"{demo.url}/_outbox/")
    expect(page.get_by_role("status")).to_contain_text("mail can take a second or two")
    expect(page.get_by_text("No emails yet")).to_have_count(0)

    sign_up(page, demo, "ana@example.test")
    page.get_by_role("link", name=re.compile("Open the demo outbox")).click()
    page.get_by_role("link", name=re.compile("Confirm your")).first.click()
    page.wait_for_function(FRAME_FITS)
    height = page.evaluate("document.querySelector('iframe.email').clientHeight")
    assert 200 < height < 1000  # the short email's own height, not a fixed 70rem frame
    shot(page, "outbox")

    page.locator("ul.links a[href*='/confirm/']").click()
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You're subscribed")
    page.get_by_role("link", name=re.compile("Open the demo outbox")).click()
    page.get_by_role("link", name=re.compile("Your first digest")).first.click()
    page.wait_for_function(FRAME_FITS)
    assert page.evaluate("document.querySelector('iframe.email').clientHeight") > height
