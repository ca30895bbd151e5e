"""Releases: follow sync, artist checks, the per-user ledger, dedupe and release dates."""
