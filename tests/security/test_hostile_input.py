"""A table of hostile and broken requests against the web app, each with the status it must get
and the check that no row of any table changed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeSerializer, URLSafeTimedSerializer
from werkzeug.test import TestResponse

from release_notifier.clock import utcnow
from release_notifier.db import Database
from release_notifier.db.models import User
from release_notifier.links import PURPOSES
from tests.security.conftest import snapshot
from tests.web.conftest import SignupFlow, csrf_token, signed_path


@dataclass
class Ctx:
    client: FlaskClient
    app: Flask
    flow: SignupFlow
    user: User


def signup(address: str) -> Callable[[Ctx], TestResponse]:
    def send(ctx: Ctx) -> TestResponse:
        token = csrf_token(ctx.client)
        return ctx.client.post("/signup", data={"email": address, "csrf_token": token})

    return send


def path(purpose: str, *, forge: str = "", suffix: str = "") -> Callable[[Ctx], str]:
    """The signed link path of `purpose` for the user, damaged as `forge` says."""

    def build(ctx: Ctx) -> str:
        good = signed_path(ctx.app, purpose, ctx.user)
        prefix, _, token = good.rpartition("/")
        salt = PURPOSES[purpose][0]
        payload = [ctx.user.id, ctx.user.link_version]
        if forge == "tampered":  # one character of the signature changed
            body, _, signature = token.rpartition(".")
            token = f"{body}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
        elif forge == "forged":  # signed with a key that is not ours
            token = str(URLSafeTimedSerializer("guessed-key", salt=salt).dumps(payload))
        elif forge == "untimed":  # a never-expiring signature where a timed one is expected
            token = str(URLSafeSerializer("test-secret-key", salt=salt).dumps(payload))
        elif forge == "other-user":  # the signature of another payload pasted on
            other = signed_path(ctx.app, purpose, ctx.user, version=ctx.user.link_version + 1)
            token = token.split(".")[0] + "." + other.rpartition("/")[2].split(".", 1)[1]
        elif forge == "old-version":  # a link from before the user deleted and came back
            token = signed_path(ctx.app, purpose, ctx.user, version=ctx.user.link_version + 1)
            token = token.rpartition("/")[2]
        elif forge == "garbage":
            token = "%00%0d%0a<script>"
        elif forge == "expired":
            with time_machine.travel(utcnow() - timedelta(days=400), tick=False):
                token = signed_path(ctx.app, purpose, ctx.user).rpartition("/")[2]
        return f"{prefix}/{token}{suffix}"

    return build


def get(build: Callable[[Ctx], str]) -> Callable[[Ctx], TestResponse]:
    return lambda ctx: ctx.client.get(build(ctx))


def post(build: Callable[[Ctx], str], *, csrf: bool = True) -> Callable[[Ctx], TestResponse]:
    def send(ctx: Ctx) -> TestResponse:
        data = {"frequency": "weekly", "release_types": ["album"]}
        if csrf:
            data["csrf_token"] = csrf_token(ctx.client)
        return ctx.client.post(build(ctx), data=data)

    return send


def callback(query: str) -> Callable[[Ctx], TestResponse]:
    return lambda ctx: ctx.client.get(f"/auth/callback{query}")


def cron(headers: dict[str, str]) -> Callable[[Ctx], TestResponse]:
    return lambda ctx: ctx.client.post("/scheduled/run-releases", headers=headers)


def oversized(route: Callable[[Ctx], str], **headers: str) -> Callable[[Ctx], TestResponse]:
    body = "email=" + "a" * (70 * 1024)
    return lambda ctx: ctx.client.post(
        route(ctx),
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
    )


CORPUS: dict[str, tuple[Callable[[Ctx], TestResponse], int]] = {
    # Email addresses at signup
    "address without @": (signup("ana.example.com"), 422),
    "address without domain": (signup("ana@"), 422),
    "address without local part": (signup("@example.com"), 422),
    "address with two @": (signup("ana@@example.com"), 422),
    "address with a space": (signup("ana maria@example.com"), 422),
    "address with a dotless domain": (signup("ana@example"), 422),
    "address of 255 characters": (signup("a" * 243 + "@example.com"), 422),
    "local part of 65 characters": (signup("a" * 65 + "@example.com"), 422),
    "empty address": (signup(""), 422),
    "address on a reserved test domain": (signup("ana@example.test"), 422),
    # Header injection through the only user-typed value that reaches a header (To)
    "CRLF Bcc injection in the address": (signup("ana@example.com\r\nBcc: eve@example.com"), 422),
    "LF injection in the address": (signup("ana@example.com\nSubject: hi"), 422),
    "CR injection in the address": (signup("ana@example.com\rBcc: eve@example.com"), 422),
    "encoded CRLF in the address": (signup("ana@example.com%0d%0aBcc:eve@example.com"), 422),
    "NUL in the address": (signup("ana\x00@example.com"), 422),
    "comma-separated second recipient": (signup("ana@example.com, eve@example.com"), 422),
    "display-name form of the address": (signup("Ana <ana@example.com>"), 422),
    # Signed links: forged, tampered, expired, for another user or purpose
    **{
        f"{forge} {purpose} link ({method})": (
            (get if method == "GET" else post)(path(purpose, forge=forge)),
            410 if forge == "expired" and purpose != "unsubscribe" else 400,
        )
        for purpose in ("confirm", "settings", "unsubscribe")
        for method in ("GET", "POST")
        for forge in ("tampered", "forged", "other-user", "old-version", "garbage", "expired")
        if not (forge == "expired" and purpose == "unsubscribe")  # never expires: see below
    },
    **{
        f"{forge} relink link": (get(path("relink", forge=forge)), 400)
        for forge in ("tampered", "forged", "other-user", "old-version", "garbage")
    },
    "expired relink link": (get(path("relink", forge="expired")), 410),
    "untimed signature on a timed settings link": (get(path("settings", forge="untimed")), 400),
    "settings link used as a confirm link": (
        get(lambda ctx: signed_path(ctx.app, "settings", ctx.user).replace("settings", "confirm")),
        400,
    ),
    "unsubscribe link used as a settings link": (
        get(
            lambda ctx: signed_path(ctx.app, "unsubscribe", ctx.user).replace(
                "unsubscribe", "settings"
            )
        ),
        400,
    ),
    "tampered settings link on the delete button": (
        post(path("settings", forge="tampered", suffix="/delete")),
        400,
    ),
    # OAuth callback
    "callback without state": (callback("?code=abc"), 400),
    "callback with an empty state": (callback("?state=&code=abc"), 400),
    "callback with a state nobody issued": (callback("?state=made-up&code=abc"), 400),
    "callback with an overlong state": (callback("?state=" + "s" * 5000 + "&code=abc"), 400),
    "callback without anything": (callback(""), 400),
    # Missing CSRF token on every form
    "signup without CSRF token": (
        lambda ctx: ctx.client.post("/signup", data={"email": "eve@example.com"}),
        400,
    ),
    "confirm without CSRF token": (post(path("confirm"), csrf=False), 400),
    "settings save without CSRF token": (post(path("settings"), csrf=False), 400),
    "pause without CSRF token": (post(path("settings", suffix="/pause"), csrf=False), 400),
    "relink without CSRF token": (post(path("settings", suffix="/relink"), csrf=False), 400),
    "delete without CSRF token": (post(path("settings", suffix="/delete"), csrf=False), 400),
    "CSRF token from another session": (
        lambda ctx: ctx.client.post(
            "/signup",
            data={"email": "eve@example.com", "csrf_token": csrf_token(ctx.app.test_client())},
        ),
        400,
    ),
    # The cron endpoint's key
    "cron without key": (cron({}), 401),
    "cron with a wrong key": (cron({"X-API-KEY": "wrong"}), 401),
    "cron with an empty key": (cron({"X-API-KEY": ""}), 401),
    "cron with the key's prefix": (cron({"X-API-KEY": "test-cron"}), 401),
    "cron with the key and more": (cron({"X-API-KEY": "test-cron-key-and-more"}), 401),
    "cron with the key in another header": (cron({"Authorization": "test-cron-key"}), 401),
    "cron by GET": (lambda ctx: ctx.client.get("/scheduled/run-releases"), 405),
    "run status without key": (lambda ctx: ctx.client.get("/scheduled/runs/1"), 401),
    # Bodies over MAX_CONTENT_LENGTH
    "oversized signup": (oversized(lambda ctx: "/signup"), 413),
    "oversized one-click unsubscribe": (oversized(path("unsubscribe")), 413),
    "oversized cron call": (
        oversized(lambda ctx: "/scheduled/run-releases", **{"X-API-KEY": "test-cron-key"}),
        413,
    ),
}


# Known gaps, each described in docs/reliability.md; strict, so a fix turns them green.


@pytest.mark.parametrize(
    "case",
    list(CORPUS),
)
def test_hostile_request_gets_its_status_and_changes_no_row(
    client: FlaskClient, app: Flask, flow: SignupFlow, ana: User, database: Database, case: str
) -> None:
    send, status = CORPUS[case]
    ctx = Ctx(client, app, flow, ana)
    before = snapshot(database)

    answer = send(ctx)

    assert answer.status_code == status, answer.get_data(as_text=True)[:300]
    assert snapshot(database) == before
    assert "Traceback" not in answer.get_data(as_text=True)
