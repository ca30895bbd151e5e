"""`serve` and `demo` as a person runs them: real processes, real ports on 127.0.0.1."""

from __future__ import annotations

import os
import queue
import re
import signal
import smtplib
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
import requests
from cryptography.fernet import Fernet

SECRETS = {
    "FLASK_SECRET_KEY": "flask-secret-for-the-serve-test",
    "CRON_SECRET_KEY": "cron-secret-for-the-serve-test",
    "DB_ENCRYPTION_KEY": Fernet.generate_key().decode(),
}

SPOTIFY_APP = {"SPOTIPY_CLIENT_ID": "serve-test-id", "SPOTIPY_CLIENT_SECRET": "serve-test-secret"}
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


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


def test_serve_refuses_an_http_redirect_uri_spotify_would_refuse(tmp_path: Path) -> None:
    env = command_env(tmp_path, **SECRETS, PUBLIC_BASE_URL="http://notifier.example.com")
    result = subprocess.run(
        [sys.executable, "-m", "release_notifier", "serve", "--port", "0"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "PUBLIC_BASE_URL: the redirect URI http://notifier.example.com" in result.stderr
    assert not (tmp_path / "site.db").exists()


def start_serve(
    tmp_path: Path, stop_later: list[subprocess.Popen[str]], **extra: str
) -> tuple[subprocess.Popen[str], str]:
    """`serve --port 0` set up in full (secrets, Spotify app; the mail server in command_env);
    returns the process and the URL it prints."""
    env = command_env(tmp_path, **SECRETS, **SPOTIFY_APP, **extra)
    process = release_notifier("serve", "--port", "0", env=env, cwd=tmp_path)
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


def test_serve_without_spotify_or_mail_warns_naming_each_and_healthz_says_not_set_up(
    tmp_path: Path, stop_later: list[subprocess.Popen[str]]
) -> None:
    env = command_env(tmp_path, **SECRETS, SMTP_HOST="smtp.gmail.com", SCHEDULER_ENABLED="false")
    process = release_notifier("serve", "--port", "0", env=env, cwd=tmp_path)
    stop_later.append(process)
    output = Output(process)
    url = output.wait_for("serving on ").removeprefix("serving on ")
    warnings = [line for line in output.seen if "is not set" in line]
    assert [line.split(" is not set")[0].split()[-1] for line in warnings] == [
        "SPOTIPY_CLIENT_ID",
        "SPOTIPY_CLIENT_SECRET",
        "EMAIL_USER",
        "EMAIL_PASSWORD",
    ]
    health = requests.get(f"{url}/healthz", timeout=10)
    assert health.status_code == 503
    assert health.json() == {
        "status": "not set up",
        "database": "ok",
        "missing": ["SPOTIPY_CLIENT_ID", "SPOTIPY_CLIENT_SECRET", "EMAIL_USER", "EMAIL_PASSWORD"],
    }
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0


def test_serve_behind_a_trusted_proxy_limits_each_forwarded_client_on_its_own(
    tmp_path: Path, stop_later: list[subprocess.Popen[str]]
) -> None:
    process, url = start_serve(tmp_path, stop_later, TRUST_PROXY_HEADERS="true")
    with requests.Session() as browser:
        token = CSRF.search(browser.get(f"{url}/", timeout=10).text).group(1)
        statuses = [
            browser.post(
                f"{url}/signup",
                data={"email": f"p{n}@example.com", "csrf_token": token},
                headers={  # as Caddy or nginx send them for six different people
                    "X-Forwarded-For": f"203.0.113.{n}",
                    "X-Forwarded-Proto": "https",
                    "X-Forwarded-Host": "releases.example.com",
                    "Referer": "https://releases.example.com/",
                },
                allow_redirects=False,
                timeout=10,
            ).status_code
            for n in range(6)
        ]
    assert statuses == [303] * 6  # waitress used to drop the headers: one client, then 429
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def demo_ports(app: int = 0, emulator: int = 0, mail: int = 0) -> list[str]:
    """`demo` options for these ports (0: any free one, so parallel tests never collide)."""
    return ["--port", str(app), "--emulator-port", str(emulator), "--mail-port", str(mail)]


def test_demo_serves_the_app_with_its_outbox_and_its_emulator_on_fixed_ports(
    tmp_path: Path, stop_later: list[subprocess.Popen[str]]
) -> None:
    emulator_port, mail_port = free_port(), free_port()
    process = release_notifier(
        "demo", *demo_ports(0, emulator_port, mail_port), env=command_env(tmp_path), cwd=tmp_path
    )
    stop_later.append(process)
    output = Output(process)
    url = output.wait_for("  open ").split()[-1].rstrip("/")
    spotify = output.wait_for("  Spotify ").split()[1]
    output.wait_for("serving on ")
    assert spotify == f"http://127.0.0.1:{emulator_port}"
    signup = requests.get(f"{url}/", timeout=10)
    assert signup.status_code == 200 and "Demo sandbox" in signup.text
    assert requests.get(f"{url}/_outbox/", timeout=10).status_code == 200
    with smtplib.SMTP("127.0.0.1", mail_port, timeout=10) as catcher:
        assert catcher.noop()[0] == 250
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0


def test_demo_listens_on_the_host_given_for_the_app_and_the_emulator(
    tmp_path: Path, stop_later: list[subprocess.Popen[str]]
) -> None:
    host = "127.0.0.2"  # another loopback address: what --host 0.0.0.0 or a LAN address does
    try:
        socket.create_server((host, 0)).close()
    except OSError:
        pytest.skip(f"{host} is not a loopback address on this system")
    process = release_notifier(
        "demo", "--host", host, *demo_ports(), env=command_env(tmp_path), cwd=tmp_path
    )
    stop_later.append(process)
    output = Output(process)
    url = output.wait_for("  open ").split()[-1].rstrip("/")
    spotify = output.wait_for("  Spotify ").split()[1]
    output.wait_for("serving on ")
    assert url.startswith(f"http://{host}:") and spotify.startswith(f"http://{host}:")
    assert requests.get(f"{url}/", timeout=10).status_code == 200
    assert requests.get(f"{spotify}/v1/me", timeout=10).status_code == 401  # no token yet
    with pytest.raises(requests.ConnectionError):
        requests.get(url.replace(host, "127.0.0.1") + "/", timeout=10)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0


@pytest.mark.parametrize("option", ["--port", "--emulator-port", "--mail-port"])
def test_demo_on_a_busy_port_says_so_in_one_line_naming_the_option(
    tmp_path: Path, option: str
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        options = demo_ports()
        options[options.index(option) + 1] = str(port)
        result = subprocess.run(
            [sys.executable, "-m", "release_notifier", "demo", *options],
            env=command_env(tmp_path),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if " INFO " not in line]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith(f"Error: cannot listen on 127.0.0.1:{port}")
    assert errors[0].endswith(f": Address already in use; choose another port with {option}")
    assert "open " not in result.stdout  # no banner for a demo that is not there


def test_serve_on_a_busy_port_says_so_in_one_line_and_touches_nothing(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "release_notifier", "serve", "--port", str(port)],
            env=command_env(tmp_path, **SECRETS),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: cannot listen on 127.0.0.1:{port}: Address already in use; "
        "choose another port with --port"
    ]
    assert "serving on" not in result.stdout
    assert not (tmp_path / "site.db").exists()


def test_default_ports_avoid_macos_airplay_and_match_the_default_public_url() -> None:
    from release_notifier.cli.web import demo, serve
    from release_notifier.settings import Settings

    def defaults(command: click.Command) -> dict[str, object]:
        return {param.name: param.default for param in command.params if param.name}

    assert defaults(serve)["port"] == 8000  # 5000 is AirPlay's on every current macOS
    assert defaults(demo) == {
        "host": "127.0.0.1",
        "port": 8000,
        "emulator_port": 8099,
        "mail_port": 2525,
    }
    assert Settings.model_fields["public_base_url"].default == "http://127.0.0.1:8000"
