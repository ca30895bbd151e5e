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
