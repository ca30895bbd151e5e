"""Digests: compose each user's email from their ledger, claim it, send it exactly once."""
