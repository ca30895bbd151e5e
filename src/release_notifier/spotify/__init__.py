"""Spotify adapter: OAuth (Authlib over requests), a small Web API client, the request budget.

It never imports web, mail, digests or jobs.
"""
