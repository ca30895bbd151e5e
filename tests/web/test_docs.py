"""Every setting is documented: in .env.example, docs/configuration.md and the README's guide."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from release_notifier.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = sorted(name.upper() for name in Settings.model_fields)


def test_env_example_lists_exactly_the_settings() -> None:
    text = (ROOT / ".env.example").read_text()
    listed = sorted(re.findall(r"^([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))
    assert listed == SETTINGS


@pytest.mark.parametrize("document", ["docs/configuration.md", "README.md"])
def test_every_setting_is_documented(document: str) -> None:
    text = (ROOT / document).read_text()
    assert [name for name in SETTINGS if f"`{name}`" not in text] == []


def test_the_readme_still_starts_with_the_demo_and_test_commands() -> None:
    head = (ROOT / "README.md").read_text().split("## ", 1)[0]
    assert "./scripts/demo" in head and "./scripts/test" in head


DOCUMENTS = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]
LOCAL_LINK = re.compile(
    r"\]\((?!https?://|mailto:|#)([^)\s#]+)[^)]*\)|\bsrc=\"(?!https?://)([^\"]+)\""
)


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_local_link_in_the_docs_reaches_a_file(document: str) -> None:
    path = ROOT / document
    targets = [a or b for a, b in LOCAL_LINK.findall(path.read_text())]
    assert [t for t in targets if not (path.parent / t).exists()] == []


def test_the_readme_links_what_spotifys_developer_terms_say() -> None:
    assert "(docs/spotify-terms.md)" in (ROOT / "README.md").read_text()
    terms = (ROOT / "docs" / "spotify-terms.md").read_text()
    for subject in ("5 users", "Extended quota mode", "client-credentials", "Unknown"):
        assert subject in terms
