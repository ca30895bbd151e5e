"""release-notifier: email digests of new releases from the artists you follow on Spotify."""

__version__ = "0.1.0"
