"""A Dropbox app folder answering the real SDK's HTTPS calls through `responses`.

Only the routes the backups use: oauth2/token, files/upload, files/download, files/list_folder
(+continue) and files/delete_v2, with Dropbox's JSON shapes and its 409 route errors.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import responses
from requests import PreparedRequest

API = "https://api.dropboxapi.com"
CONTENT = "https://content.dropboxapi.com"
ACCESS_TOKEN = "sl.fake-access-token"
Answer = tuple[int, dict[str, str], str | bytes]


@dataclass
class StoredFile:
    path: str  # as uploaded (Dropbox keeps the case for display)
    data: bytes
    modified: datetime
    revision: int


@dataclass
class FakeDropbox:
    """The files under an app folder, and the credentials it accepts."""

    app_key: str = "app-key"
    app_secret: str = "app-secret"
    refresh_token: str = "refresh-token"
    files: dict[str, StoredFile] = field(default_factory=dict)
    token_requests: list[dict[str, list[str]]] = field(default_factory=list)
    page_size: int = 2

    def put(self, path: str, data: bytes, modified: datetime | None = None) -> None:
        revision = len(self.files) + 1
        now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        self.files[path.lower()] = StoredFile(path, data, modified or now, revision)

    # Routes ----------------------------------------------------------------------------

    def token(self, request: PreparedRequest) -> Answer:
        form = parse_qs(str(request.body))
        self.token_requests.append(form)
        expected = {
            "grant_type": ["refresh_token"],
            "refresh_token": [self.refresh_token],
            "client_id": [self.app_key],
            "client_secret": [self.app_secret],
        }
        if any(form.get(name) != value for name, value in expected.items()):
            return _json(400, {"error": "invalid_grant", "error_description": "bad refresh token"})
        return _json(
            200, {"access_token": ACCESS_TOKEN, "token_type": "bearer", "expires_in": 14400}
        )

    def upload(self, request: PreparedRequest) -> Answer:
        argument = json.loads(request.headers["Dropbox-API-Arg"])
        body = request.body if isinstance(request.body, bytes) else str(request.body).encode()
        self.put(argument["path"], body)
        return _json(200, self.metadata(argument["path"]))

    def download(self, request: PreparedRequest) -> Answer:
        path = json.loads(request.headers["Dropbox-API-Arg"])["path"]
        if path.lower() not in self.files:
            return _not_found()
        headers = {
            "Dropbox-API-Result": json.dumps(self.metadata(path)),
            "Content-Type": "application/octet-stream",
        }
        return 200, headers, self.files[path.lower()].data

    def list_folder(self, request: PreparedRequest) -> Answer:
        folder = json.loads(str(request.body))["path"].lower().rstrip("/") + "/"
        names = sorted(p for p in self.files if p.startswith(folder))
        if not names:
            return _not_found()
        return self.page(names, 0)

    def list_folder_continue(self, request: PreparedRequest) -> Answer:
        cursor = json.loads(str(request.body))["cursor"]
        position, _, joined = cursor.partition("|")
        return self.page(joined.split("\n"), int(position))

    def page(self, names: list[str], start: int) -> Answer:
        chunk = names[start : start + self.page_size]
        more = start + self.page_size < len(names)
        cursor = f"{start + self.page_size}|" + "\n".join(names)
        entries = [self.metadata(name) for name in chunk]
        return _json(200, {"entries": entries, "cursor": cursor, "has_more": more})

    def delete(self, request: PreparedRequest) -> Answer:
        path = json.loads(str(request.body))["path"]
        if path.lower() not in self.files:
            return _not_found()
        metadata = self.metadata(path)
        del self.files[path.lower()]
        return _json(200, {"metadata": metadata})

    def metadata(self, path: str) -> dict[str, Any]:
        stored = self.files[path.lower()]
        path = stored.path
        stamp = stored.modified.strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            ".tag": "file",
            "name": path.rsplit("/", 1)[-1],
            "path_lower": path.lower(),
            "path_display": path,
            "id": f"id:{hashlib.sha1(path.encode()).hexdigest()[:12]}",
            "client_modified": stamp,
            "server_modified": stamp,
            "rev": f"{stored.revision:09x}",
            "size": len(stored.data),
        }

    @contextmanager
    def serving(self) -> Iterator[responses.RequestsMock]:
        """Answer Dropbox's hosts for the duration of the block; nothing else is intercepted."""
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            routes = {
                f"{API}/oauth2/token": self.token,
                f"{CONTENT}/2/files/upload": self.upload,
                f"{CONTENT}/2/files/download": self.download,
                f"{API}/2/files/list_folder": self.list_folder,
                f"{API}/2/files/list_folder/continue": self.list_folder_continue,
                f"{API}/2/files/delete_v2": self.delete,
            }
            for url, handler in routes.items():
                guarded = handler if handler == self.token else self.requiring_token(handler)
                mock.add_callback(responses.POST, url, callback=guarded)
            yield mock

    def requiring_token(
        self, handler: Callable[[PreparedRequest], Answer]
    ) -> Callable[..., Answer]:
        def guarded(request: PreparedRequest) -> Answer:
            if request.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
                return _json(
                    401,
                    {
                        "error_summary": "invalid_access_token/",
                        "error": {".tag": "invalid_access_token"},
                    },
                )
            return handler(request)

        return guarded


def _json(status: int, body: object) -> Answer:
    return status, {"Content-Type": "application/json"}, json.dumps(body)


def _not_found() -> Answer:
    error = {
        "error_summary": "path/not_found/..",
        "error": {".tag": "path", "path": {".tag": "not_found"}},
    }
    return _json(409, error)
