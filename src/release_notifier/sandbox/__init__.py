"""The sandbox: stand-ins for the outside world (Spotify, mail) used by tests, the demo and
development. Nothing outside cli, tests and the demo-only pages imports it."""
