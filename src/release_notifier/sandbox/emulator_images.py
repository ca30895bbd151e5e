"""Cover art for the emulated catalogue: a coloured square with initials, so pages and digests
that show images work offline."""

from __future__ import annotations

import hashlib
from html import escape

PALETTE = ["#1db954", "#e91429", "#509bf5", "#f59b23", "#af2896", "#148a08", "#8d67ab", "#e8115b"]


def initials(title: str) -> str:
    """Up to two initials of `title` ("Night Swimming" -> "NS")."""
    letters = [word[0] for word in title.split() if word[:1].isalnum()]
    return "".join(letters[:2]).upper() or "?"


def cover_svg(title: str, seed: str, size: int) -> str:
    """A square SVG cover, its colour fixed by `seed`."""
    colour = PALETTE[hashlib.sha256(seed.encode()).digest()[0] % len(PALETTE)]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 100 100"><rect width="100" height="100" fill="{colour}"/>'
        f'<text x="50" y="62" font-family="sans-serif" font-size="32" fill="#fff" '
        f'text-anchor="middle">{escape(initials(title))}</text></svg>'
    )
