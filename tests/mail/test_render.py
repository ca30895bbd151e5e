"""build_message: templates per kind, both parts, headers, escaping and header-injection guards."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from jinja2 import UndefinedError

from release_notifier.mail.render import build_message
from tests.mail import contexts
from tests.mail.contexts import CONTEXTS, HOSTILE, KEY_LINKS

ANA = "ana@example.com"
SENDER = "Release Notifier <notifier@example.org>"
SITE = "Release Notifier"


def build(email_kind: str, **context_overrides: object) -> EmailMessage:
    make_context = CONTEXTS[email_kind]
    context = make_context(**context_overrides) if context_overrides else make_context()
    return build_message(email_kind, to=ANA, sender=SENDER, site_name=SITE, context=context)


def parts(message: EmailMessage) -> tuple[str, str]:
    """(text, html) bodies, asserting the text part comes first."""
    text_part, html_part = message.iter_parts()
    assert text_part.get_content_type() == "text/plain"
    assert html_part.get_content_type() == "text/html"
    return text_part.get_content(), html_part.get_content()


@pytest.mark.parametrize("kind", sorted(CONTEXTS))
def test_each_kind_renders_text_then_html_with_its_link(kind: str) -> None:
    message = build(kind)
    assert message.get_content_type() == "multipart/alternative"
    text, html = parts(message)
    assert KEY_LINKS[kind] in text
    assert f'href="{KEY_LINKS[kind]}"' in html
    assert message["Subject"].strip()


@pytest.mark.parametrize("kind", sorted(CONTEXTS))
def test_each_kind_has_from_to_date_and_a_message_id_on_the_sender_domain(kind: str) -> None:
    message = build(kind)
    assert message["From"] == SENDER
    assert message["To"] == ANA
    assert message["Date"]
    assert message["Message-ID"].startswith("<")
    assert message["Message-ID"].endswith("@example.org>")


def test_a_given_message_id_is_used() -> None:
    message = build_message(
        "confirm",
        to=ANA,
        sender=SENDER,
        site_name=SITE,
        context=contexts.confirm(),
        message_id="<abc@example.org>",
    )
    assert message["Message-ID"] == "<abc@example.org>"


def test_regular_digest_subject_counts_only_what_is_out() -> None:
    assert build("digest")["Subject"] == "1 new release from artists you follow"
    two = build("digest", release_count=2, upcoming_count=3)
    assert two["Subject"] == "2 new releases from artists you follow"
    only_upcoming = build("digest", release_count=0, artists=[], upcoming_count=1)
    assert only_upcoming["Subject"] == "1 release coming soon from artists you follow"


def test_initial_digest_subject_names_the_lookback_period() -> None:
    message = build("digest", kind="initial", release_count=3, lookback_days=28)
    assert message["Subject"] == "Your first digest: 3 releases from the past 4 weeks"


def test_an_empty_first_digest_says_how_many_artists_and_when_the_next_comes() -> None:
    message = build(
        "digest",
        kind="initial",
        release_count=0,
        upcoming_count=0,
        artists=[],
        upcoming=[],
        followed_artists=3,
        next_digest_label="9 December 2026",
    )
    text, html = parts(message)
    assert message["Subject"] == "Your first digest: nothing new in the past 4 weeks"
    for part in (text, html):
        assert "We found 3 artists you follow on Spotify" in part
        assert "None of them released anything in the past 4 weeks" in part
        assert "Your next digest comes on 9 December 2026" in part


def test_a_first_digest_without_followed_artists_tells_how_to_follow_them() -> None:
    text, html = parts(
        build(
            "digest",
            kind="initial",
            release_count=0,
            upcoming_count=0,
            artists=[],
            upcoming=[],
            followed_artists=0,
            next_digest_label="9 December 2026",
        )
    )
    for part in (text, html):
        assert "We found no artists you follow on Spotify" in part
        assert "open their page and press" in part
        assert "Your next digest comes on 9 December 2026." in part


def test_an_empty_first_digest_of_an_email_only_subscriber_speaks_of_chosen_artists() -> None:
    empty = dict(kind="initial", release_count=0, upcoming_count=0, artists=[], upcoming=[])
    empty["next_digest_label"] = "9 December 2026"
    chose = parts(build("digest", **empty, email_only=True, followed_artists=2))
    chose_none = parts(build("digest", **empty, email_only=True, followed_artists=0))
    for part in chose:
        assert "You chose 2 artists" in part
        assert "Spotify" not in part.split("Your next digest")[0]
    for part in chose_none:
        assert "You have not chosen any artists yet" in part
        assert "/settings/tok-settings" in part


def test_digest_groups_releases_under_the_artist_with_cover_type_and_date() -> None:
    text, html = parts(build("digest"))
    assert "Björk" in text
    assert "Fossora" in text
    assert "Album · 30 September 2026" in text
    assert 'src="https://i.scdn.co/image/fossora300"' in html
    assert "Open in Spotify" in html
    assert html.index("Björk") < html.index("Fossora") < html.index("Atopos")


def test_upcoming_releases_come_last_under_coming_soon_with_their_date_once() -> None:
    text, html = parts(build("digest"))
    for part in (text, html):
        soon = part.index("Coming soon")
        assert part.index("Fossora") < soon < part.index("Atopos")
        assert part.count("12 December 2026") == 1
        assert "Out on 12 December 2026" in part


def test_a_summary_line_gives_the_counts_and_the_period_covered() -> None:
    text, html = parts(build("digest"))
    line = "1 new release since your last digest on 18 November 2026 and 1 coming soon"
    assert line in text and line in html
    first_text, first_html = parts(build("digest", kind="initial", period_start="4 November 2026"))
    first = "1 release from the past 4 weeks (since 4 November 2026) and 1 coming soon"
    assert first in first_text and first in first_html


def test_every_cover_has_alt_text_naming_the_album() -> None:
    _, html = parts(build("digest"))
    assert 'alt="Cover of Fossora"' in html
    assert 'alt="Cover art"' not in html


def test_a_hostile_album_name_is_escaped_in_html_and_literal_in_text() -> None:
    artists = [
        {
            "name": f"Evil {HOSTILE}",
            "spotify_url": "https://open.spotify.com/artist/evil",
            "releases": [contexts.release(name=HOSTILE, artists_label=f'"{HOSTILE}')],
        }
    ]
    text, html = parts(build("digest", artists=artists, release_count=1))
    assert HOSTILE in text
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_links_that_are_not_http_are_left_out() -> None:
    bad = contexts.release(spotify_url="javascript:alert(1)", image_url="data:image/png;base64,xx")
    artists = [{"name": "A", "spotify_url": "javascript:alert(2)", "releases": [bad]}]
    text, html = parts(build("digest", artists=artists, release_count=1))
    assert "javascript:" not in html
    assert "data:image" not in html
    assert "javascript:" not in text


def test_css_is_inlined_into_style_attributes() -> None:
    _, html = parts(build("digest"))
    assert 'style="' in html
    assert "<link" not in html
    assert "@import" not in html


def test_footer_has_settings_and_unsubscribe_links_in_both_parts() -> None:
    text, html = parts(build("relink"))
    for url in (contexts.relink()["settings_url"], contexts.relink()["unsubscribe_url"]):
        assert url in text
        assert f'href="{url}"' in html


def test_the_confirm_email_has_no_unsubscribe_link() -> None:
    text, html = parts(build("confirm"))
    assert "Unsubscribe" not in text
    assert "Unsubscribe" not in html


def test_extra_headers_are_added() -> None:
    headers = {
        "List-Unsubscribe": f"<{contexts.BASE}/unsubscribe/tok-unsub>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    message = build_message(
        "digest", to=ANA, sender=SENDER, site_name=SITE, context=contexts.digest(), headers=headers
    )
    assert message["List-Unsubscribe"] == headers["List-Unsubscribe"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


@pytest.mark.parametrize(
    ("to", "sender", "headers"),
    [
        ("ana@example.com\r\nBcc: eve@example.com", SENDER, None),
        (ANA, "notifier@example.org\nBcc: eve@example.com", None),
        (ANA, SENDER, {"List-Unsubscribe": "<https://x>\r\nBcc: eve@example.com"}),
        (ANA, SENDER, {"X-Evil\r\nBcc": "eve@example.com"}),
    ],
)
def test_line_breaks_in_header_values_are_refused(
    to: str, sender: str, headers: dict[str, str] | None
) -> None:
    with pytest.raises(ValueError, match="header"):
        build_message(
            "confirm",
            to=to,
            sender=sender,
            site_name=SITE,
            context=contexts.confirm(),
            headers=headers,
        )


def test_a_line_break_in_a_subject_value_is_collapsed_to_one_line() -> None:
    message = build("expiry_reminder", expires_on_label="3 Jan\r\nBcc: eve@example.com")
    assert message["Bcc"] is None
    assert "\n" not in message["Subject"]
    assert "3 Jan Bcc: eve@example.com" in message["Subject"]


def test_callers_cannot_override_the_headers_build_message_sets() -> None:
    with pytest.raises(ValueError, match="From"):
        build_message(
            "confirm",
            to=ANA,
            sender=SENDER,
            site_name=SITE,
            context=contexts.confirm(),
            headers={"From": "eve@example.com"},
        )


def test_a_missing_context_value_is_an_error_not_a_blank() -> None:
    with pytest.raises(UndefinedError):
        build_message("confirm", to=ANA, sender=SENDER, site_name=SITE, context={})


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="goodbye"):
        build_message("goodbye", to=ANA, sender=SENDER, site_name=SITE, context={})


@pytest.mark.parametrize("kind", sorted(CONTEXTS))
def test_every_kind_names_the_service_by_the_site_name_it_is_given(kind: str) -> None:
    make_context = CONTEXTS[kind]
    message = build_message(
        kind, to=ANA, sender=SENDER, site_name="Tuesday Tunes", context=make_context()
    )
    text, html = parts(message)
    assert "Tuesday Tunes" in text + message["Subject"] and "Tuesday Tunes" in html
    assert "Release Notifier" not in text + html + message["Subject"]
