"""./scripts/demo as a person starts it twice: the second start installs nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def demo_script(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the copied ./scripts/demo with no package index, so any pip install fails."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(project),
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": "",
        "PIP_CONFIG_FILE": os.devnull,
    }
    return subprocess.run(
        [str(project / "scripts" / "demo"), *args],
        env=env,
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )


def venv_is_current(project: Path) -> bool:
    check = ["bash", "-c", ". scripts/lib/venv.sh && venv_is_current"]
    return subprocess.run(check, cwd=project, check=False).returncode == 0


def installed_copy(tmp_path: Path) -> Path:
    """The scripts and pyproject.toml in a fresh folder whose .venv this test's venv stands in
    for (its release-notifier linked), stamped as ./scripts/test leaves it."""
    project = tmp_path / "project"
    shutil.copytree(ROOT / "scripts", project / "scripts")
    shutil.copy(ROOT / "pyproject.toml", project / "pyproject.toml")
    (project / ".venv" / "bin").mkdir(parents=True)
    entry = Path(sys.executable).parent / "release-notifier"
    (project / ".venv" / "bin" / "release-notifier").symlink_to(entry)
    stamp = subprocess.run(
        ["bash", "-c", ". scripts/lib/venv.sh && venv_fingerprint"],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (project / ".venv" / "installed-stamp").write_text(stamp)
    return project


def test_a_second_demo_start_skips_pip_until_pyproject_changes(tmp_path: Path) -> None:
    project = installed_copy(tmp_path)

    again = demo_script(project, "--help")
    assert again.returncode == 0, again.stderr
    assert "--emulator-port" in again.stdout
    assert "installing" not in again.stdout + again.stderr

    with (project / "pyproject.toml").open("a") as pyproject:
        pyproject.write("\n# a dependency changed\n")
    assert not venv_is_current(project)  # so ./scripts/demo installs again
