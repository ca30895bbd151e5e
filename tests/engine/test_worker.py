"""`release-notifier worker` as an operator runs it: a real process working the queue that the
web app (here, the test) fills, on the SQLite queue file and on the Redis on this machine."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
import redis
from cryptography.fernet import Fernet

from release_notifier import accounts
from release_notifier.clock import utcnow
from release_notifier.db import open_database
from release_notifier.jobs.queue import build_queue
from release_notifier.sandbox.mailcatcher import MailCatcher
from release_notifier.settings import load_settings
from tests.web.test_cli_web import Output, command_env, release_notifier, stop_later

__all__ = ["stop_later"]  # the fixture, shared with the serve tests

REDIS_URL = "redis://127.0.0.1:6379/13"


def redis_answers() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def wait_until_caught(smtp: MailCatcher, address: str, timeout: float = 60) -> None:
    """The worker is another process: poll the mail catcher until the message arrives."""
    deadline = time.monotonic() + timeout
    while not smtp.to(address):
        assert time.monotonic() < deadline, f"no email to {address} within {timeout:g} s"
        time.sleep(0.1)


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_a_worker_sends_the_confirmation_the_web_app_queued_and_stops_on_ctrl_c(
    backend: str, tmp_path: Path, smtp: MailCatcher, stop_later: list[subprocess.Popen[str]]
) -> None:
    if backend == "redis" and not redis_answers():
        pytest.skip(f"no Redis answers at {REDIS_URL}")
    env = command_env(
        tmp_path,
        SPOTIPY_CLIENT_ID="worker-test-client",
        SPOTIPY_CLIENT_SECRET="worker-test-secret",
        DB_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        FLASK_SECRET_KEY="worker-test-flask-secret",
        SMTP_HOST=smtp.host,
        SMTP_PORT=str(smtp.port),
        SMTP_SECURITY="none",
        MAIL_FROM="digests@notifier.test",
        SCHEDULER_ENABLED="false",
        **({"HUEY_REDIS_URL": REDIS_URL} if backend == "redis" else {}),
    )
    settings = load_settings(**{name.lower(): value for name, value in env.items()})
    database = open_database(settings.database_url)
    queue = build_queue(settings, database)
    queue.huey.flush()  # nothing left from an earlier run of this test
    with database.session() as session:
        user = accounts.create_user(session, settings, "new@example.test", utcnow())
        accounts.request_confirmation(session, user, utcnow())
        user_id = user.id

    worker = release_notifier("worker", env=env, cwd=tmp_path)
    stop_later.append(worker)
    banner = Output(worker).wait_for("worker: ")
    queue.enqueue_notices(user_id)
    wait_until_caught(smtp, "new@example.test")

    assert "periodic tick off" in banner
    assert REDIS_URL not in banner  # the URL may carry a password: never printed
    message = smtp.to("new@example.test")[0].message
    assert "/confirm/" in message.get_body(preferencelist=("plain",)).get_content()
    worker.send_signal(signal.SIGINT)
    assert worker.wait(timeout=30) == 0
    assert len(queue.huey) == 0  # the task was taken off the queue
    database.dispose()
