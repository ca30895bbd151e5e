"""Footprint: the memory and disk one instance needs. `serve` runs for real on a SQLite database
of USERS subscribers and answers pages; the digest run for the same users is measured in its own
process; the install, the database, the queue and one backup are weighed on disk.

    python benchmarks/footprint.py [--users 2000] [--follows 300] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script: make `benchmarks` importable

import requests  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402

from benchmarks.digests import discarding_smtp, seed, send_all  # noqa: E402
from release_notifier.db import open_database  # noqa: E402

PAGE_REQUESTS = 300
PAGES = ("/", "/healthz", "/no-such-page")


def megabytes(size: int) -> float:
    return round(size / 1024 / 1024, 1)


def folder_size(path: Path) -> int:
    """Bytes in the files under `path` (links not followed)."""
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def installed_size(project: str = "release-notifier") -> int:
    """Bytes of `project` and everything it needs to run (no test or benchmark extras), as
    their installed files list them; Python itself is not counted."""
    from importlib.metadata import PackageNotFoundError, distribution

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    seen: set[str] = set()
    wanted, total = [project], 0
    while wanted:
        name = canonicalize_name(wanted.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            continue
        for file in dist.files or []:
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                total += path.stat().st_size
        for line in dist.requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                wanted.append(requirement.name)
    return total


def memory_mb(pid: int) -> dict[str, float]:
    """A process's resident memory now (VmRSS) and at its peak (VmHWM), from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mb": fields["VmRSS"], "peak_mb": fields["VmHWM"]}


def instance_env(folder: Path, smtp_port: int) -> dict[str, str]:
    """The settings of a small real instance whose mail goes to the discarding sink."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": f"sqlite:///{folder / 'site.db'}",
        "HUEY_SQLITE_PATH": str(folder / "queue.db"),
        "BACKUP_DIR": str(folder / "backups"),
        "FLASK_SECRET_KEY": "footprint",
        "CRON_SECRET_KEY": "footprint",
        "DB_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "SPOTIPY_CLIENT_ID": "footprint",
        "SPOTIPY_CLIENT_SECRET": "footprint",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SMTP_SECURITY": "none",
        "MAIL_FROM": "digests@notifier.test",
        "SCHEDULER_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
    }


def measure_serve(env: dict[str, str], folder: Path) -> dict[str, float]:
    """Start `serve`, read its memory once it answers and again after PAGE_REQUESTS pages."""
    process = subprocess.Popen(
        [sys.executable, "-m", "release_notifier", "serve", "--port", "0"],
        env=env,
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = ""
        for line in process.stdout:
            if line.startswith("serving on "):
                url = line.split()[-1]
                break
        with requests.Session() as browser:
            browser.get(url + "/healthz", timeout=10)
            started = memory_mb(process.pid)
            for n in range(PAGE_REQUESTS):
                browser.get(url + PAGES[n % len(PAGES)], timeout=10)
        served = memory_mb(process.pid)
    finally:
        process.terminate()
        process.wait(30)
    return {"serve_started_mb": started["rss_mb"], "serve_peak_mb": served["peak_mb"]}


def measure(users: int, follows: int) -> dict[str, Any]:
    spawn = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        url = f"sqlite:///{folder / 'site.db'}"
        database = open_database(url)
        seed(database, users, follows, random.Random(100))
        database.dispose()
        with discarding_smtp() as port:
            env = instance_env(folder, port)
            result: dict[str, Any] = {"users": users, "follows_per_user": follows}
            result.update(measure_serve(env, folder))
            with spawn.Pool(1) as pool:
                run = pool.apply(send_all, (url, port))
            result["run_peak_mb"] = run["peak_rss_mb"]
            result["digests_sent"] = run["digests_sent"]
            subprocess.run(
                [sys.executable, "-m", "release_notifier", "backup"],
                env=env,
                cwd=folder,
                check=True,
                capture_output=True,
            )
        result["install_mb"] = megabytes(installed_size())
        result["database_mb"] = megabytes(sum(p.stat().st_size for p in folder.glob("site.db*")))
        result["queue_mb"] = megabytes(sum(p.stat().st_size for p in folder.glob("queue.db*")))
        result["backup_mb"] = megabytes(folder_size(folder / "backups"))
    return result


def markdown(result: dict[str, Any]) -> str:
    rows = [
        ("`serve` just started", f"{result['serve_started_mb']} MB resident"),
        (f"`serve` after {PAGE_REQUESTS} pages", f"{result['serve_peak_mb']} MB peak"),
        (
            f"a digest run for {result['users']:,} users x {result['follows_per_user']}",
            f"{result['run_peak_mb']} MB peak ({result['digests_sent']:,} digests)",
        ),
        ("the app and its dependencies, installed", f"{result['install_mb']} MB"),
        ("the SQLite database", f"{result['database_mb']} MB"),
        ("the queue (`queue.db`)", f"{result['queue_mb']} MB"),
        ("one encrypted backup", f"{result['backup_mb']} MB"),
    ]
    lines = ["| what | measured |", "|---|---|"]
    lines += [f"| {what} | {value} |" for what, value in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--follows", type=int, default=300)
    parser.add_argument("--json", type=Path, help="write the results here as JSON")
    args = parser.parse_args(argv)
    result = measure(args.users, args.follows)
    print(markdown(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
