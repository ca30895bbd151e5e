"""Spotify's answers as observed in 2026 (reference section 0.1), each over HTTP against the
emulator: no single release, title, date or artist stops a run. On SQLite and PostgreSQL."""

from __future__ import annotations

from release_notifier.db.models import Artist, Release
from tests.engine.conftest import World

LONG_TITLE = ("Ballads " * 250).strip() + "!"  # 2,000 characters
LONG_ARTIST = "The " + "Very " * 80 + "Long Band"  # over 300 characters


def test_a_0000_release_date_is_stored_as_unknown_and_the_run_goes_on(world: World) -> None:
    band = world.spotify.add_artist("Dust Archive")
    lost = world.spotify.add_release(band, "Undated Tapes", release_date="0000")
    world.spotify.add_release(band, "Clear Morning", release_date="2026-11-20")
    world.add_user("ann@example.test", [band])

    first = world.run()

    assert world.digest_names("ann@example.test") == [["Clear Morning"]]
    assert first.artists_checked == 1 and not first.problems
    with world.database.session() as session:
        stored = session.get(Release, lost)
        assert stored is not None and stored.release_date == "0000"
        assert stored.date_start is None and stored.date_end is None
        assert session.get(Artist, band).checked_at is not None


def test_a_0000_release_appearing_later_is_recorded_never_announced(world: World) -> None:
    band = world.spotify.add_artist("Dust Archive")
    world.spotify.add_release(band, "Clear Morning", release_date="2026-11-20")
    user = world.add_user("ann@example.test", [band])
    world.run()

    glitched = world.spotify.add_release(band, "Glitched Date", release_date="0000")
    world.days_pass(14)
    second = world.run()

    assert world.digest_names("ann@example.test") == [["Clear Morning"]]
    assert second.emails_sent == 0 and not second.problems
    assert glitched not in world.ledger(user)
    with world.database.session() as session:
        assert session.get(Release, glitched) is not None


def test_an_error_of_one_artist_skips_it_and_the_run_still_sends(world: World) -> None:
    good = world.spotify.add_artist("Steady Hands")
    odd = world.spotify.add_artist("Odd Data")
    world.spotify.add_release(good, "Works Fine", release_date="2026-11-21")
    world.spotify.add_release(odd, "Arrives Later", release_date="2026-11-21")
    world.add_user("bo@example.test", [good, odd], interval=0)
    # a 200 whose album lacks its artists: a parse error, not a SpotifyError
    broken = {"items": [{"id": "0" * 22, "name": "?", "release_date": "2026-11-21"}], "total": 1}
    world.spotify.fail(rf"^/v1/artists/{odd}/albums", 200, body=broken)

    first = world.run()

    assert world.digest_names("bo@example.test") == [["Works Fine"]]
    assert first.check_errors == 1
    assert any(f"artist {odd} skipped" in problem for problem in first.problems)
    with world.database.session() as session:
        assert session.get(Artist, odd).check_failures == 1
    world.run()
    assert world.digest_names("bo@example.test") == [["Works Fine"], ["Arrives Later"]]


def test_long_titles_and_artist_names_are_stored_whole_and_delivered(world: World) -> None:
    band = world.spotify.add_artist(LONG_ARTIST)
    album = world.spotify.add_release(band, LONG_TITLE, release_date="2026-11-21")
    world.add_user("cy@example.test", [band])

    summary = world.run()

    assert not summary.problems
    assert world.digest_names("cy@example.test") == [[LONG_TITLE]]
    with world.database.session() as session:
        assert session.get(Release, album).name == LONG_TITLE
        assert session.get(Artist, band).name == LONG_ARTIST


def test_the_upgrade_keeps_every_row_and_then_takes_unknown_dates(database_url: str) -> None:
    from sqlalchemy import text

    from release_notifier.db import open_database
    from release_notifier.db.migrate import upgrade_database

    database = open_database(database_url, upgrade=False)
    try:
        upgrade_database(database, "0003")
        with database.engine.begin() as connection:
            connection.execute(
                text("INSERT INTO artists VALUES ('a', 'A', NULL, NULL, 0, NULL, NULL, NULL, NULL)")
            )
            connection.execute(
                text(
                    "INSERT INTO releases VALUES ('r', 'R', 'album', '2026', 'year', '2026-01-01',"
                    " '2026-12-31', 1, NULL, 'u', '[]', 'k', '2026-01-01 00:00:00')"
                )
            )
            connection.execute(text("INSERT INTO artist_releases VALUES ('a', 'r', 'album')"))
        upgrade_database(database)
        with database.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO releases VALUES ('z', :name, 'album', '0000', 'year', NULL, NULL,"
                    " 1, NULL, 'u', '[]', 'k2', '2026-01-01 00:00:00')"
                ),
                {"name": LONG_TITLE},
            )
            links = connection.execute(text("SELECT artist_id, release_id FROM artist_releases"))
            assert links.fetchall() == [("a", "r")]
            assert connection.execute(text("SELECT count(*) FROM releases")).scalar() == 2
    finally:
        database.dispose()
