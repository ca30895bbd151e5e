"""The results table (text and Markdown) and the requests-against-follows plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

COLUMNS = [
    ("requests/run", "requests_per_run"),
    ("requests/cycle", "requests_per_cycle"),
    ("requests/day", "requests_per_day"),
    ("requests/check", "requests_per_artist_check"),
    ("QUOTA 429s", "quota_exceeded"),
    ("missed", "missed"),
    ("duplicated", "duplicated"),
    ("max digests waited", "max_digests_waited"),
    ("max detection h", "max_detection_delay_hours"),
    ("wall s", "wall_s"),
    ("peak RSS MB", "peak_rss_mb"),
]


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


def rows(results: dict[str, Any]) -> list[list[str]]:
    table = []
    for name, result in results.items():
        floor = result.get("floor_requests_per_cycle")
        for app in ("engine", "baseline"):
            measured = result.get(app)
            if not measured:
                continue
            per_cycle = measured.get("requests_per_cycle")
            ratio = round(per_cycle / floor, 2) if floor and per_cycle is not None else None
            table.append(
                [name, app, _cell(floor), _cell(ratio)]
                + [_cell(measured.get(key)) for _, key in COLUMNS]
            )
    return table


def headers() -> list[str]:
    return ["scenario", "app", "floor/cycle", "x floor"] + [title for title, _ in COLUMNS]


def text_table(results: dict[str, Any]) -> str:
    tables = [[headers(), *rows(results)], [PROMISE_COLUMNS, *promise_rows(results)]]
    return "\n\n".join(_aligned(table) for table in tables)


def _aligned(table: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in table
    )


def markdown_table(results: dict[str, Any]) -> str:
    lines = ["| " + " | ".join(headers()) + " |", "|" + "---|" * len(headers())]
    lines += ["| " + " | ".join(row) + " |" for row in rows(results)]
    return "\n".join(lines) + "\n\n" + promise_markdown(results)


PROMISE_COLUMNS = [
    "scenario",
    "unique artists",
    "checks/interval allowed",
    "needed",
    "promise",
    "checked within the interval (min at a digest)",
    "checked in the last 24 h (min)",
    "oldest check at a digest h",
    "missed",
    "duplicated",
    "late",
]


def promise_rows(results: dict[str, Any]) -> list[list[str]]:
    """The engine's promise (as `status` states it at the end) against what it delivered."""
    table = []
    for name, result in results.items():
        engine = result.get("engine") or {}
        promise = engine.get("promise")
        if not promise:
            continue
        table.append(
            [
                name,
                _cell(promise["unique_artists"]),
                _cell(promise["checks_allowed_per_interval"]),
                _cell(promise["checks_needed_per_interval"]),
                "kept" if promise["kept"] else "not kept",
                _cell(engine.get("coverage_cycle_min")),
                _cell(engine.get("coverage_24h_min")),
                _cell(engine.get("oldest_check_at_digest_hours")),
                _cell(engine.get("missed")),
                _cell(engine.get("duplicated")),
                _cell(engine.get("late")),
            ]
        )
    return table


def promise_markdown(results: dict[str, Any]) -> str:
    lines = ["| " + " | ".join(PROMISE_COLUMNS) + " |", "|" + "---|" * len(PROMISE_COLUMNS)]
    lines += ["| " + " | ".join(row) + " |" for row in promise_rows(results)]
    return "\n".join(lines)


def plot(results: dict[str, Any], path: Path) -> None:
    """Requests per digest cycle against total follows, engine and baseline, with the floor."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = sorted(
        (r["follows"], name, r) for name, r in results.items() if r.get("follows") is not None
    )
    figure, axes = plt.subplots(figsize=(8, 5))
    for app, marker in (("engine", "o"), ("baseline", "s")):
        xs = [f for f, _, r in points if r.get(app)]
        ys = [r[app]["requests_per_cycle"] for _, _, r in points if r.get(app)]
        axes.plot(xs, ys, marker=marker, linestyle="none", label=app)
    xs = [f for f, _, _ in points]
    floors = [r["floor_requests_per_cycle"] for *_, r in points]
    axes.plot(
        xs, floors, "k_", markersize=14, label="floor (one request per artist + follow pages)"
    )
    for follows, name, result in points:
        if result.get("baseline"):
            axes.annotate(name, (follows, result["baseline"]["requests_per_cycle"]), fontsize=8)
    axes.set_xlabel("follows (users x follows per user)")
    axes.set_ylabel("Spotify requests per digest cycle")
    axes.set_title("Requests per digest cycle: quota-aware engine vs naive baseline")
    axes.grid(True, alpha=0.3)
    axes.legend()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
