"""The capacity benchmark's arithmetic: CPU accounting, the step verdict, tables, profiles.

Kept apart from bench/capacity.py, which imports locust (and so gevent's
monkey-patching), so it can be tested and reused without starting anything.
"""

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

P95_LIMIT_MS = 300.0
ENDPOINTS = ("poll", "badge", "page", "post")
# A backend's title: "postgres: 16/main: USER DATABASE HOST(PORT) STATE" ("[local]" over a socket).
_BACKEND = re.compile(r"postgres: (?:[^:]+: )?\S+ (\S+) (?:\S+\(\d+\)|\[local\])")


def step_held(*, p95_ms: float | None, errors: int, requests: int) -> bool:
    """Say whether a step was held: some traffic, no error at all, p95 under the limit."""
    return requests > 0 and errors == 0 and p95_ms is not None and p95_ms < P95_LIMIT_MS


def max_students_held(steps: list[dict[str, Any]]) -> int:
    """Return the largest step held with every smaller step held too (0 if the first failed).

    A step held after a failed one is not counted: on a shared machine it says
    more about a quiet moment than about capacity.
    """
    held = 0
    for step in sorted(steps, key=lambda s: s["students"]):
        if not step["held"]:
            break
        held = step["students"]
    return held


def postgres_role(cmdline: str, database: str) -> str:
    """Classify a PostgreSQL process: a backend of `database` ("ours"), of another ("other").

    Everything else (the postmaster, WAL writer, checkpointer, autovacuum
    launcher...) serves every database: "shared".
    """
    backend = _BACKEND.search(cmdline)
    if backend is None:
        return "shared"
    return "ours" if backend[1] == database else "other"


@dataclass
class CpuAccount:
    """CPU seconds used since `start()` by a set of processes that come and go.

    Processes are observed by (pid, create time) so a reused pid is a new
    process. One already running at the start counts from its CPU time then;
    one started later (a recycled gunicorn worker, a new database backend)
    counts from zero, since a new process starts with none. What a process
    uses between its last observation and its exit is missed: observe often.
    """

    started_at: float = 0.0
    _seen: dict[tuple[int, float], list[float]] = field(default_factory=dict)

    def start(self, now: float) -> None:
        self.started_at = now
        self._seen = {key: [last, last] for key, (_, last) in self._seen.items()}

    def observe(self, pid: int, created_at: float, cpu_seconds: float) -> None:
        entry = self._seen.get((pid, created_at))
        if entry is None:
            base = 0.0 if created_at >= self.started_at else cpu_seconds
            self._seen[(pid, created_at)] = [base, cpu_seconds]
        else:
            entry[1] = max(entry[1], cpu_seconds)

    def used(self) -> float:
        return sum(last - base for base, last in self._seen.values())

    def started_since(self) -> int:
        """Return how many of the processes seen started after `start()`."""
        return sum(1 for _, created in self._seen if created >= self.started_at)


# --- Tables --------------------------------------------------------------------------------

COLUMNS = [
    ("students", "students", "{:,}"),
    ("req/s", "rps", "{:,.0f}"),
    ("p50 ms", "p50_ms", "{:,.0f}"),
    ("p95 ms", "p95_ms", "{:,.0f}"),
    ("p99 ms", "p99_ms", "{:,.0f}"),
    *[(f"{e} p95", f"{e}_p95_ms", "{:,.0f}") for e in ENDPOINTS],
    ("errors", "errors", "{:,}"),
    ("gunicorn", "cpu_gunicorn", "{:.2f}"),
    ("postgres", "cpu_postgres", "{:.2f}"),
    ("redis", "cpu_redis", "{:.2f}"),
    ("load gen", "cpu_loadgen", "{:.2f}"),
    ("other", "cpu_other", "{:.2f}"),
    ("held", "held", "{}"),
]


def table_row(step: dict[str, Any]) -> dict[str, str]:
    """Flatten one step's results into the table's cells."""
    overall = step["overall"]
    values: dict[str, Any] = {
        "students": step["students"],
        "rps": overall["rps"],
        "p50_ms": overall["p50_ms"],
        "p95_ms": overall["p95_ms"],
        "p99_ms": overall["p99_ms"],
        "errors": overall["errors"],
        "held": "yes" if step["held"] else "no",
    }
    for endpoint in ENDPOINTS:
        values[f"{endpoint}_p95_ms"] = step["endpoints"].get(endpoint, {}).get("p95_ms")
    for group, cores in step["cpu_cores"].items():
        values[f"cpu_{group}"] = cores
    return {
        key: "-" if values.get(key) is None else fmt.format(values[key]) for _, key, fmt in COLUMNS
    }


def console_header() -> str:
    return "".join(f"{title:>{_width(title)}}" for title, _, _ in COLUMNS)


def console_row(step: dict[str, Any]) -> str:
    cells = table_row(step)
    return "".join(f"{cells[key]:>{_width(title)}}" for title, key, _ in COLUMNS)


def _width(title: str) -> int:
    return max(len(title), 6) + 2


def markdown_table(steps: list[dict[str, Any]]) -> str:
    """Return the steps as a Markdown table (CPU in cores: CPU-seconds per second)."""
    lines = [
        "| " + " | ".join(title for title, _, _ in COLUMNS) + " |",
        "|" + "|".join("---:" for _ in COLUMNS) + "|",
    ]
    for step in steps:
        cells = table_row(step)
        lines.append("| " + " | ".join(cells[key] for _, key, _ in COLUMNS) + " |")
    return "\n".join(lines)


# --- Profiles ------------------------------------------------------------------------------


def _short_path(path: str, root: str) -> str:
    """Return a frame's file relative to the project, site-packages or the standard library."""
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1]
    if path.startswith(root.rstrip("/") + "/"):
        return path[len(root.rstrip("/")) + 1 :]
    if "/lib/python3." in path:
        return "stdlib/" + path.split("/lib/python3.", 1)[1].split("/", 1)[-1]
    return path


def _frame_label(frame: dict[str, Any], root: str) -> str:
    if not frame.get("file") and str(frame.get("name", "")).startswith("process "):
        return "(a process's root: native code, no Python frame)"
    return f"{frame.get('name', '?')} ({_short_path(frame.get('file', ''), root)})"


def _is_ours(frame: dict[str, Any], root: str) -> bool:
    path = frame.get("file", "")
    return path.startswith(root) and "/.venv/" not in path and "/bench/" not in path


def _area(frame: dict[str, Any], root: str) -> str:
    """Name the package a frame runs in: django/db, psycopg, redis, one of our apps..."""
    path = frame.get("file", "")
    if _is_ours(frame, root):
        return "lectern: " + _short_path(path, root).split("/", 1)[0]
    if "site-packages/" in path:
        parts = _short_path(path, root).split("/")
        return "/".join(parts[:2]) if parts[0] == "django" and len(parts) > 2 else parts[0]
    return "python (stdlib, imports)"


def summarise_profile(speedscope: dict[str, Any], root: str, top: int = 25) -> str:
    """Summarise a py-spy speedscope profile: where the sampled time went.

    Samples are stacks listed root first, one frame per line executed; they are
    grouped by function. Own time is the innermost function, total time any
    function on the stack (counted once per sample). The project's own code is
    listed apart, since that is where a fix would go, and own time is also
    summed by package (database driver, templates, ORM, our apps...).
    """
    frames = speedscope["shared"]["frames"]
    labels = [_frame_label(frame, root) for frame in frames]
    areas = [_area(frame, root) for frame in frames]
    ours = {labels[i] for i, frame in enumerate(frames) if _is_ours(frame, root)}
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    by_area: Counter[str] = Counter()
    sampled = 0.0
    for profile in speedscope["profiles"]:
        for stack, weight in zip(profile["samples"], profile["weights"], strict=True):
            if not stack:
                continue
            sampled += weight
            own[labels[stack[-1]]] += weight
            by_area[areas[stack[-1]]] += weight
            for label in {labels[i] for i in stack}:
                total[label] += weight
    if not sampled:
        return "no samples (were the workers idle?)\n"

    def block(title: str, counts: Counter[str], only: set[str] | None = None) -> list[str]:
        rows = [(k, n) for k, n in counts.most_common() if only is None or k in only][:top]
        return [title, *(f"  {100 * n / sampled:5.1f}%  {k}" for k, n in rows), ""]

    unit = speedscope["profiles"][0].get("unit", "samples") if speedscope["profiles"] else ""
    lines = [f"{sampled:,.1f} {unit} sampled in {len(speedscope['profiles'])} processes", ""]
    lines += block("Own time by package:", by_area)
    lines += block("By own time (the function itself):", own)
    lines += block("Project code by total time (the function and what it calls):", total, ours)
    lines += block("Everything by total time:", total)
    return "\n".join(lines)


class Timeline:
    """Per second of the hold, by when requests were sent: how many, how many slow, the slowest.

    A p95 over the hold can't tell steady slowness from stalls; this can.
    """

    def __init__(self, environment: Any) -> None:
        self.seconds: dict[int, list[float]] = {}
        self.started = time.monotonic()
        environment.events.request.add_listener(self._record)

    def _record(self, response_time: float, **_: Any) -> None:
        sent = time.monotonic() - response_time / 1000 - self.started
        if sent >= 0:
            self.seconds.setdefault(int(sent), []).append(response_time)

    def reset(self) -> None:
        self.seconds = {}
        self.started = time.monotonic()

    def summary(self, limit_ms: float) -> dict[str, Any]:
        rows = [
            [second, len(times), sum(t > limit_ms for t in times), round(max(times))]
            for second, times in sorted(self.seconds.items())
        ]
        return {
            "columns": ["second", "requests", f"over_{int(limit_ms)}_ms", "max_ms"],
            "rows": rows,
            "seconds_with_slow": sum(1 for row in rows if row[2]),
        }
