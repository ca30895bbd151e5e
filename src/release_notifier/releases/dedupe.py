"""One release appears once: explicit/clean twins and market copies share a dedupe key."""

from __future__ import annotations

import re
import unicodedata

# Edition markers that do not make a different release: "(Explicit)", "- Clean Version", ...
EDITION = re.compile(
    r"\s*[\(\[\-\u2013]\s*(explicit|clean|clean version|explicit version|edited|edited version)"
    r"\s*[\)\]]?\s*$",
    re.IGNORECASE,
)


def normalize_title(title: str) -> str:
    """Case-, accent- and spacing-insensitive title without explicit/clean markers."""
    text = unicodedata.normalize("NFKD", title)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    previous = None
    while previous != text:
        previous, text = text, EDITION.sub("", text)
    return " ".join(text.split())


def dedupe_key(title: str, artist_ids: list[str], release_date: str, total_tracks: int) -> str:
    """Same normalized title, same artists, same date, same track count: the same release."""
    artists = ",".join(sorted(set(artist_ids)))
    return f"{normalize_title(title)}|{artists}|{release_date}|{total_tracks}"[:700]
