"""`serve` and `demo` as a person runs them: real processes, real ports on 127.0.0.1."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet

SECRETS = {
    "FLASK_SECRET_KEY": "flask-secret-for-the-serve-test",
    "CRON_SECRET_KEY": "cron-secret-for-the-serve-test",
    "DB_ENCRYPTION_KEY": Fernet.generate_key().decode(),
}


def command_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONUNBUFFERED": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'site.db'}",
        "HUEY_SQLITE_PATH": str(tmp_path / "queue.db"),
        "BACKUP_DIR": str(tmp_path / "backups"),
        "SMTP_HOST": "127.0.0.1",  # a periodic tick during a test never reaches out
        **extra,
    }


def release_notifier(*args: str, env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "release_notifier", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


class Output:
    """The lines a process prints, read in a thread so waiting for one can time out."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        assert process.stdout is not None
        stream = process.stdout
        threading.Thread(
            target=lambda: [self.lines.put(line) for line in stream], daemon=True
        ).start()

    def wait_for(self, prefix: str, timeout: float = 60) -> str:
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(
                    f"no line starting {prefix!r} in:\n{''.join(self.seen)}"
                ) from None
            self.seen.append(line)
            if line.startswith(prefix):
                return line.strip()


@pytest.fixture
def stop_later() -> Iterator[list[subprocess.Popen[str]]]:
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_serve_refuses_to_start_without_its_secrets_and_names_them(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "release_notifier", "serve"],
        env=command_env(tmp_path, CRON_SECRET_KEY="set"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "FLASK_SECRET_KEY, DB_ENCRYPTION_KEY are not set" in result.stderr
    assert "CRON_SECRET_KEY" not in result.stderr
    assert not (tmp_path / "site.db").exists()


def start_serve(
    tmp_path: Path, stop_later: list[subprocess.Popen[str]]
) -> tuple[subprocess.Popen[str], str]:
    """`serve --port 0` with its secrets set; returns the process and the URL it prints."""
    process = release_notifier(
        "serve", "--port", "0", env=command_env(tmp_path, **SECRETS), cwd=tmp_path
    )
    stop_later.append(process)
    return process, Output(process).wait_for("serving on ").removeprefix("serving on ")


def test_serve_answers_health_checks_and_stops_on_ctrl_c(
    tmp_path: Path, stop_later: list[subprocess.Popen[str]]
) -> None:
    process, url = start_serve(tmp_path, stop_later)
    assert url.startswith("http://127.0.0.1:")
    health = requests.get(f"{url}/healthz", timeout=10)
    assert health.status_code == 200 and health.json()["database"] == "ok"
    cron = requests.post(
        f"{url}/scheduled/run-releases", headers={"X-API-KEY": "wrong"}, timeout=10
    )
    assert cron.status_code == 401
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0


def test_serve_stops_cleanly_on_ctrl_c_the_moment_it_starts(
    tmp_path: Path, stop_later: list[subprocess.Popen[str]]
) -> None:
    process, _ = start_serve(tmp_path, stop_later)
    process.send_signal(signal.SIGINT)  # before or while the queue consumer takes the signals
    assert process.wait(timeout=30) == 0


def test_demo_serves_the_app_with_its_outbox(
    tmp_path: Path, stop_later: list[subprocess.Popen[str]]
) -> None:
    process = release_notifier("demo", "--port", "0", env=command_env(tmp_path), cwd=tmp_path)
    stop_later.append(process)
    output = Output(process)
    url = output.wait_for("  open ").split()[-1].rstrip("/")
    output.wait_for("serving on ")
    signup = requests.get(f"{url}/", timeout=10)
    assert signup.status_code == 200 and "Demo sandbox" in signup.text
    assert requests.get(f"{url}/_outbox/", timeout=10).status_code == 200
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
