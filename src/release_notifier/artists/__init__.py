"""Finding artists to choose (search by name, pasted Spotify links, imported lists)."""
