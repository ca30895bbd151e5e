"""Shared fixtures live in tests/fixtures/, one module per real component."""

pytest_plugins = [
    "tests.fixtures.db",
    "tests.fixtures.push",
    "tests.fixtures.smtp",
    "tests.fixtures.spotify",
]
