"""The deployment files in deploy/: a systemd unit one would run, and reverse-proxy examples
that forward to the port `serve` listens on by default with the headers it reads."""

from __future__ import annotations

import configparser
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from release_notifier.cli.web import DEFAULT_PORT

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
UNIT = DEPLOY / "release-notifier.service"
HARDENING = {
    "NoNewPrivileges": "true",
    "ProtectSystem": "strict",
    "ProtectHome": "true",
    "PrivateTmp": "true",
    "PrivateDevices": "true",
    "CapabilityBoundingSet": "",
    "RestrictSUIDSGID": "true",
}


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(UNIT.read_text())
    return parser


def test_the_unit_starts_serve_as_its_own_user_after_the_network_and_confined() -> None:
    parsed = unit()
    assert parsed["Unit"]["After"] == "network-online.target"
    assert parsed["Unit"]["Wants"] == "network-online.target"
    service = parsed["Service"]
    assert service["User"] == "release-notifier"
    assert service["ExecStart"].endswith(
        f"release-notifier serve --host 127.0.0.1 --port {DEFAULT_PORT}"
    )
    assert service["KillSignal"] == "SIGINT"  # a run in progress finishes
    assert {key: service.get(key) for key in HARDENING} == HARDENING
    assert service["ReadWritePaths"] == "/srv/release-notifier/instance"
    assert parsed["Install"]["WantedBy"] == "multi-user.target"


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed")
def test_systemd_accepts_every_line_of_the_unit(tmp_path: Path) -> None:
    """systemd-analyze verify, with the install folder moved to where this test's venv is."""
    app = tmp_path / "app"
    (app / ".venv" / "bin").mkdir(parents=True)
    (app / ".venv" / "bin" / "release-notifier").symlink_to(
        Path(sys.executable).parent / "release-notifier"
    )
    copy = tmp_path / "release-notifier.service"
    copy.write_text(UNIT.read_text().replace("/srv/release-notifier", str(app)))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_the_proxy_examples_forward_to_serve_with_the_headers_it_trusts() -> None:
    caddy = (DEPLOY / "Caddyfile").read_text()
    assert f"reverse_proxy 127.0.0.1:{DEFAULT_PORT}" in caddy
    nginx = (DEPLOY / "nginx.conf").read_text()
    assert f"proxy_pass http://127.0.0.1:{DEFAULT_PORT};" in nginx
    for header in ("Host", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"):
        assert f"proxy_set_header {header} " in nginx
    assert "TRUST_PROXY_HEADERS=true" in caddy and "TRUST_PROXY_HEADERS=true" in nginx


# A production install has no `demo` extra: aiosmtpd cannot be imported there.
WITHOUT_DEMO_EXTRA = "import sys; sys.modules['aiosmtpd'] = None\n"

PRODUCTION_APP = """
import json, sys
from release_notifier.cli.web import require_production_secrets
from release_notifier.settings import load_settings
from release_notifier.web import create_app

settings = load_settings()
require_production_secrets(settings)
client = create_app(settings).test_client()
paths = ("/", "/settings", "/healthz", "/_outbox/")
answers = {path: client.get(path).status_code for path in paths}
loaded = sorted(
    name for name, module in sys.modules.items()
    if module is not None and name.startswith(("aiosmtpd", "release_notifier.sandbox"))
)
print(json.dumps({"answers": answers, "loaded": loaded}))
"""


def run_without_demo_extra(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`code` in a fresh Python whose environment is a production install's: the secrets set,
    files under `tmp_path`, and no aiosmtpd."""
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "FLASK_SECRET_KEY": "production-flask-secret",
        "CRON_SECRET_KEY": "production-cron-secret",
        "DB_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'site.db'}",
        "HUEY_SQLITE_PATH": str(tmp_path / "queue.db"),
        "BACKUP_DIR": str(tmp_path / "backups"),
    }
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_DEMO_EXTRA + code],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_production_app_serves_without_loading_the_sandbox_or_aiosmtpd(
    tmp_path: Path,
) -> None:
    result = run_without_demo_extra(PRODUCTION_APP, tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["loaded"] == []
    # the pages answer as they do for anyone; the outbox does not exist outside the demo
    assert report["answers"] == {"/": 200, "/settings": 200, "/healthz": 503, "/_outbox/": 404}


def test_the_demo_without_its_extra_says_what_to_install(tmp_path: Path) -> None:
    command = "from release_notifier.cli import main\nsys.argv[1:] = ['demo', '--port', '0']\n"
    result = run_without_demo_extra(command + "main()", tmp_path)
    assert result.returncode == 1
    assert "the demo needs the `demo` extra" in result.stderr
    assert "pip install -e '.[demo]'" in result.stderr
    assert "Traceback" not in result.stderr
