"""Email: render a named kind from templates into a message, and send it over SMTP.

This package renders what it is given and sends it; it knows nothing of Spotify, the web app,
releases or digests (callers format every value first).
"""
