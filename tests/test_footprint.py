"""benchmarks/footprint.py, as the docs run it, on a tiny instance: it measures a real `serve`,
a digest run and the disk, and prints the table that docs/benchmarks.md quotes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_footprint_benchmark_measures_serve_a_run_and_the_disk(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "benchmarks/footprint.py", "--users", "20", "--follows", "5"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    measured = dict(re.findall(r"^\| (.+?) \| ([\d.]+) MB", result.stdout, flags=re.MULTILINE))
    assert float(measured["`serve` just started"]) > 30  # a real Python process with the app
    assert float(measured["`serve` after 300 pages"]) >= float(measured["`serve` just started"])
    assert float(measured["a digest run for 20 users x 5"]) > 30
    assert float(measured["the app and its dependencies, installed"]) > 20
    assert float(measured["one encrypted backup"]) > float(measured["the SQLite database"]) * 0.5
