"""The deployment files in deploy/: a systemd unit one would run, and reverse-proxy examples
that forward to the port `serve` listens on by default with the headers it reads."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
