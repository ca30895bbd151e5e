"""One release appears once: explicit/clean twins and market copies share a dedupe key."""

from __future__ import annotations

import hashlib
import re
import unicodedata

# Edition markers that do not make a different release: "(Explicit)", "- Clean Version", ...
EDITION = re.compile(
    r"\s*[\(\[\-\u2013]\s*(explicit|clean|clean version|explicit version|edited|edited version)"
    r"\s*[\)\]]?\s*$",
    re.IGNORECASE,
)
KEY_BYTES = 600  # PostgreSQL indexes at most 2,704 bytes a row; a character is up to 4
KEY_PREFIX = 120


def normalize_title(title: str) -> str:
    """Case-, accent- and spacing-insensitive title without explicit/clean markers."""
    text = unicodedata.normalize("NFKD", title)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    previous = None
    while previous != text:
        previous, text = text, EDITION.sub("", text)
    return " ".join(text.split())


def dedupe_key(title: str, artist_ids: list[str], release_date: str, total_tracks: int) -> str:
    """Same normalized title, same artists, same date, same track count: the same release.

    A key over KEY_BYTES (a 2,000-character title) becomes its start plus a hash of the whole,
    so it still tells releases apart and fits any database's index.
    """
    artists = ",".join(sorted(set(artist_ids)))
    key = f"{normalize_title(title)}|{artists}|{release_date}|{total_tracks}"
    if len(key.encode()) <= KEY_BYTES:
        return key
    return f"{key[:KEY_PREFIX]}#{hashlib.sha256(key.encode()).hexdigest()}"
