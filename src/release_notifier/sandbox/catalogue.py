"""Demo data for the emulator: invented artists, releases dated relative to `today`, and four
sandbox listeners (three allow-listed, one not), covering the cases a release notifier must get
right: fresh releases, back catalogue, explicit/clean twins, collaborations, year- and
month-precision dates, a pre-release, a huge discography and an appears_on compilation; and for
choosing artists without Spotify: a second "Nova Reed" (search must let people pick the right
one) and a playlist of ana's mixing several artists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from release_notifier.sandbox.emulator import SpotifyEmulator
from release_notifier.sandbox.emulator_data import make_id

ARTISTS: dict[str, list[str]] = {
    "Nova Reed": ["indie pop"],
    "Kestrel Vale": ["folk", "chamber folk"],
    "The Paper Lanterns": ["indie rock"],
    "Mara Okafor": ["neo soul"],
    "Juniper & The Tides": ["alt country"],
    "Lumen Drive": ["synthwave"],
    "Sable Morrow": ["dark pop"],
    "Ossie Brandt Quartet": ["jazz"],
    "Halcyon Youth": ["shoegaze"],
    "Rio Calloway": ["hip hop"],
    "Fenna Lind": ["electronic"],
    "Orchard Static": ["post-rock"],
    "Wren Atlas": ["singer-songwriter"],
}

FOLLOWS: dict[str, list[str]] = {
    "ana": [
        "Nova Reed",
        "Kestrel Vale",
        "The Paper Lanterns",
        "Mara Okafor",
        "Rio Calloway",
        "Orchard Static",
        "Sable Morrow",
    ],
    "ben": [
        "Nova Reed",
        "Kestrel Vale",
        "Juniper & The Tides",
        "Lumen Drive",
        "Ossie Brandt Quartet",
        "Halcyon Youth",
        "Fenna Lind",
    ],
    "cleo": [
        "The Paper Lanterns",
        "Juniper & The Tides",
        "Wren Atlas",
        "Halcyon Youth",
        "Rio Calloway",
        "Mara Okafor",
        "Lumen Drive",
    ],
    "dana": ["Nova Reed", "Fenna Lind"],
}
ALLOWLISTED = ("ana", "ben", "cleo")

# (artist, title, group, days before today, tracks): plain day-precision releases.
PLAIN_RELEASES: list[tuple[str, str, str, int, int]] = [
    ("Nova Reed", "Glasshouse", "single", 3, 1),
    ("Nova Reed", "Low Tide Letters", "album", 410, 11),
    ("Nova Reed", "Paper Planes at Dusk", "single", 760, 2),
    ("Kestrel Vale", "Northern Lights Hymnal", "album", 12, 12),
    ("Kestrel Vale", "Cabin Sessions", "single", 205, 5),
    ("The Paper Lanterns", "Neon Parish", "album", 20, 10),
    ("Juniper & The Tides", "Dust Road Gospel", "album", 5, 9),
    ("Lumen Drive", "Midnight Arcade", "single", 1, 1),
    ("Lumen Drive", "Chrome Horizons", "album", 900, 13),
    ("Ossie Brandt Quartet", "Blue Room Standards", "album", 300, 8),
    ("Ossie Brandt Quartet", "Live at the Harbour", "album", 4015, 7),
    ("Halcyon Youth", "Static Bloom", "single", 26, 3),
    ("Halcyon Youth", "Weightless", "album", 640, 10),
    ("Fenna Lind", "Kaleidoscope", "single", 2, 1),
    ("Wren Atlas", "Quiet Cartography", "album", 1200, 11),
    ("Mara Okafor", "Slow Burn", "single", 95, 1),
]


@dataclass(frozen=True)
class DemoCatalogue:
    """What load_demo_catalogue made, by name, so tests and the demo can point at each case."""

    accounts: dict[str, str]  # "ana" -> user id
    artists: dict[str, str]  # artist name -> artist id
    allowlisted: tuple[str, ...]
    not_allowlisted: tuple[str, ...]
    collaboration_album_id: str
    explicit_album_id: str
    clean_album_id: str
    uppercase_type_album_id: str
    year_precision_album_id: str
    month_precision_album_id: str
    prerelease_album_id: str
    compilation_album_id: str
    prolific_artist_id: str
    namesake_artist_id: str  # the other "Nova Reed", followed by nobody
    playlist_id: str  # ana's public "Sandbox Mixtape"


def demo_artist_id(name: str) -> str:
    """Demo artists keep the same id on every run, so links in a running demo stay valid."""
    return make_id("demo-artist", name)


def _days_ago(today: date, days: int) -> str:
    return (today - timedelta(days=days)).isoformat()


def load_demo_catalogue(emulator: SpotifyEmulator, today: date) -> DemoCatalogue:
    """Fill `emulator` with the demo world, dated relative to `today`."""
    artists = {
        name: emulator.add_artist(name, demo_artist_id(name), genres=genres)
        for name, genres in ARTISTS.items()
    }
    for artist, title, group, days, tracks in PLAIN_RELEASES:
        emulator.add_release(
            artists[artist],
            title,
            group=group,
            release_date=_days_ago(today, days),
            total_tracks=tracks,
        )
    twins = _explicit_clean_twins(emulator, artists["Rio Calloway"], today)
    return DemoCatalogue(
        accounts=_add_listeners(emulator, artists),
        artists=artists,
        allowlisted=ALLOWLISTED,
        not_allowlisted=("dana",),
        collaboration_album_id=emulator.add_release(
            [artists["Nova Reed"], artists["Kestrel Vale"]],
            "Two Rivers",
            group="single",
            release_date=_days_ago(today, 9),
            total_tracks=2,
        ),
        explicit_album_id=twins[0],
        clean_album_id=twins[1],
        uppercase_type_album_id=emulator.add_release(
            artists["Fenna Lind"],
            "Prism Theory",
            album_type="ALBUM",
            release_date=_days_ago(today, 15),
            total_tracks=9,
        ),
        year_precision_album_id=emulator.add_release(
            artists["The Paper Lanterns"],
            "Satellite Hearts",
            release_date=str(today.year - 12),
            total_tracks=11,
        ),
        month_precision_album_id=emulator.add_release(
            artists["Mara Okafor"],
            "Velvet Hours",
            release_date=today.strftime("%Y-%m"),
            total_tracks=10,
        ),
        prerelease_album_id=emulator.add_release(
            artists["Sable Morrow"],
            "Afterglow Theory",
            release_date=(today + timedelta(days=14)).isoformat(),
            total_tracks=10,
        ),
        compilation_album_id=emulator.add_release(
            [artists["Juniper & The Tides"], artists["Wren Atlas"]],
            "Winter Sessions Vol. 3",
            group="appears_on",
            album_type="compilation",
            release_date=_days_ago(today, 10),
            total_tracks=18,
        ),
        prolific_artist_id=_prolific_discography(emulator, artists["Orchard Static"], today),
        namesake_artist_id=_namesake(emulator, today),
        playlist_id=_mixtape(emulator, artists),
    )


def _namesake(emulator: SpotifyEmulator, today: date) -> str:
    """A second "Nova Reed" (hardstyle, another image and following) with one release."""
    artist_id = emulator.add_artist(
        "Nova Reed", demo_artist_id("Nova Reed (hardstyle)"), genres=["hardstyle"]
    )
    emulator.add_release(
        artist_id, "Bassline Cathedral", group="single", release_date=_days_ago(today, 30)
    )
    return artist_id


def _mixtape(emulator: SpotifyEmulator, artists: dict[str, str]) -> str:
    """ana's public playlist: the first track of a few demo artists' newest releases."""
    tracks = []
    for name in ("Kestrel Vale", "Lumen Drive", "Wren Atlas"):
        with emulator.lock:
            newest = emulator.catalogue.releases_of(artists[name], ["album", "single"])[0][0]
        tracks.append(newest.track_ids()[0])
    return emulator.add_playlist(
        "Sandbox Mixtape", tracks, owner="ana", playlist_id=make_id("demo-playlist", "mixtape")
    )


def _explicit_clean_twins(emulator: SpotifyEmulator, artist_id: str, today: date) -> list[str]:
    """One album under two ids: same name, date and track count; only `explicit` differs."""
    released = _days_ago(today, 7)
    return [
        emulator.add_release(
            artist_id, "Concrete Psalms", release_date=released, total_tracks=14, explicit=explicit
        )
        for explicit in (True, False)
    ]


def _prolific_discography(emulator: SpotifyEmulator, artist_id: str, today: date) -> str:
    """45 releases, newest six days ago, one every ~two months before that."""
    for number in range(45):
        group = "album" if number % 3 == 0 else "single"
        emulator.add_release(
            artist_id,
            f"Field Recording No. {45 - number}",
            group=group,
            release_date=_days_ago(today, 6 + 61 * number),
            total_tracks=9 if group == "album" else 2,
        )
    return artist_id


def _add_listeners(emulator: SpotifyEmulator, artists: dict[str, str]) -> dict[str, str]:
    """ana, ben and cleo (allow-listed) and dana (not), following overlapping artists."""
    return {
        name: emulator.add_account(
            name,
            display_name=name.capitalize(),
            follows=[artists[artist] for artist in followed],
            allowlisted=name in ALLOWLISTED,
        )
        for name, followed in FOLLOWS.items()
    }


def add_new_week(emulator: SpotifyEmulator, today: date) -> list[str]:
    """A few fresh releases from demo artists, dated `today` and the day before."""
    return [
        emulator.add_release(
            demo_artist_id("Nova Reed"),
            "Glasshouse (Acoustic)",
            group="single",
            release_date=today.isoformat(),
            total_tracks=1,
        ),
        emulator.add_release(
            demo_artist_id("Halcyon Youth"),
            "Soft Machinery",
            release_date=_days_ago(today, 1),
            total_tracks=10,
        ),
        emulator.add_release(
            [demo_artist_id("Mara Okafor"), demo_artist_id("Lumen Drive")],
            "Night Bus",
            group="single",
            release_date=today.isoformat(),
            total_tracks=1,
        ),
        emulator.add_release(
            demo_artist_id("Orchard Static"),
            "Field Recording No. 46",
            group="single",
            release_date=today.isoformat(),
            total_tracks=2,
        ),
    ]
