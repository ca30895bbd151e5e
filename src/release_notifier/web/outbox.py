"""/_outbox (demo only): the mail catcher's messages, listed and rendered in the browser, and the
pushes the sandbox's webhook receiver caught, next to them."""

from __future__ import annotations

import re
from email.message import EmailMessage

from flask import Blueprint, Response, abort, render_template

from release_notifier.sandbox.mailcatcher import CaughtMessage
from release_notifier.sandbox.pushcatcher import CaughtPush
from release_notifier.web.context import app_context

bp = Blueprint("outbox", __name__, url_prefix="/_outbox")

LINK = re.compile(r"https?://[^\s<>\"')\]]+")
# The email's own HTML: inline styles and pictures from anywhere, no scripts, only in our frame.
EMAIL_CSP = "default-src 'none'; img-src * data:; style-src 'unsafe-inline'; frame-ancestors 'self'"


def caught_messages() -> list[CaughtMessage]:
    demo = app_context().demo
    if demo is None:
        abort(404)
    return list(demo.mail.messages)


def caught(number: int) -> CaughtMessage:
    messages = caught_messages()
    if not 1 <= number <= len(messages):
        abort(404)
    return messages[number - 1]


def part(message: EmailMessage, subtype: str) -> str:
    body = message.get_body(preferencelist=(subtype,))
    return str(body.get_content()) if body is not None else ""


def caught_pushes() -> list[CaughtPush]:
    demo = app_context().demo
    if demo is None or demo.pushes is None:
        return []
    return list(demo.pushes.pushes)


@bp.get("/")
def index() -> str:
    messages = list(enumerate(caught_messages(), start=1))
    pushes = list(enumerate(caught_pushes(), start=1))
    return render_template(
        "outbox.html", messages=list(reversed(messages)), pushes=list(reversed(pushes))
    )


@bp.get("/<int:number>")
def show(number: int) -> str:
    message = caught(number)
    text = part(message.message, "plain")
    return render_template(
        "outbox_message.html",
        number=number,
        caught=message,
        headers=message.message,
        text=text,
        links=list(dict.fromkeys(LINK.findall(text))),
    )


@bp.get("/<int:number>/html")
def html(number: int) -> Response:
    body = part(caught(number).message, "html") or "<p>(no HTML part)</p>"
    response = Response(body, mimetype="text/html")
    response.headers["Content-Security-Policy"] = EMAIL_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
