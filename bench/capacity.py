"""How many signed-in students one server holds during a live evening, measured from outside.

    .venv/bin/python -m bench.capacity [--steps 125,250,500,...] [--hold 60] [--profile 30]
    .venv/bin/python -m bench.capacity --report artifacts/bench/capacity.json

Serves the app as production does (gunicorn with config/gunicorn.py, its
worker count and worker recycling as they are there; DEBUG off; PostgreSQL;
Redis) and plays an evening of K live courses with locust: every student
keeps their course channel open (a poll every 3 s, 304 while idle, the unread
badge every 15 s), opens another page about every 2 minutes; one student in
a hundred (at least one per course) posts about every 30 s and each course's
teacher about every 20 s.

The number of students rises in steps. Each step spawns the new students,
lets them settle, then measures a hold window of `--hold` seconds: requests/s,
p50/p95/p99 overall and per endpoint (poll, badge, page, post), errors (any
answer but the expected 2xx/304, connection errors included), and the CPU used
by gunicorn (master and workers, recycled ones included), PostgreSQL (this
benchmark's backends and the shared processes), Redis, the load generator and
everything else on the machine, in cores. A step is held when p95 < 300 ms
with no error; the run stops after the first step that isn't (unless --all).
`max_students_held` in artifacts/bench/capacity.json is the capacity.

`--profile SECONDS` records the gunicorn workers with py-spy at the start of
each hold and writes a speedscope profile and a text summary of the top
functions to artifacts/bench/.
"""

import argparse
import contextlib
import json
import math
import os
import runpy
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gevent
import locust  # gevent patches the standard library here, before anything uses it
import psutil
import redis
from locust.env import Environment

from bench import capacity_locust, capacity_report
from bench.postgres import ensure_database
from bench.storefront import PYTHON, ROOT, _env, _manage, _redis_reachable, _wait_for

OUT = ROOT / "artifacts" / "bench"
DEFAULT_STEPS = "125,250,500,750,1000,1250,1500"
LOADGEN_LIMIT = 0.9  # cores: above this the load generator may be what's slow
# Everything switched on, as a school runs it: payments, live classes, course AI and /metrics
# (token drawn per run). Pages show what these add; nothing calls the addresses, which lead nowhere.
EVERY_FEATURE = {
    "STRIPE_SECRET_KEY": "sk_test_capacity",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_capacity",
    "STRIPE_WEBHOOK_SECRET": "whsec_capacity_0123456789",
    "STRIPE_CONNECT_WEBHOOK_SECRET": "whsec_capacity_connect_0123456789",
    "STRIPE_API_BASE": "http://127.0.0.1:9",
    "LIVEKIT_URL": "ws://127.0.0.1:7880",
    "LIVEKIT_API_KEY": "capacity-key",
    "LIVEKIT_API_SECRET": "capacity-secret-0123456789abcdef0123456789",
    "AI_BASE_URL": "http://127.0.0.1:9/v1",
    "AI_API_KEY": "capacity-key",
    "AI_MODEL": "capacity-model",
}


# --- The server ----------------------------------------------------------------------------


def gunicorn_settings(env: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    """Return the worker settings gunicorn will run with: config/gunicorn.py, then options."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        config = runpy.run_path(str(ROOT / "config" / "gunicorn.py"))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return {
        "workers": args.workers or config.get("workers", 1),
        "threads": args.threads or config.get("threads", 1),
        "worker_class": args.worker_class or config.get("worker_class", "sync"),
        "preload_app": config.get("preload_app", False),
        "max_requests": config.get("max_requests", 0),
        "max_requests_jitter": config.get("max_requests_jitter", 0),
        "timeout": config.get("timeout", 30),
        "extra_args": args.gunicorn_args,
    }


def start_gunicorn(env: dict[str, str], port: int, args: argparse.Namespace) -> subprocess.Popen:
    """Serve the app with config/gunicorn.py as production does; options only override it."""
    command = [
        PYTHON,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "-c",
        "config/gunicorn.py",
        "--bind",
        f"127.0.0.1:{port}",
    ]
    if args.workers:
        command += ["--workers", str(args.workers)]
    if args.threads:
        command += ["--threads", str(args.threads)]
    if args.worker_class:
        command += ["--worker-class", args.worker_class]
    command += args.gunicorn_args
    # Its log (worker boots and exits) goes to a file, away from the results table.
    log = (OUT / "capacity-gunicorn.log").open("w")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


# --- CPU ------------------------------------------------------------------------------------


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def _machine_busy() -> float:
    t = psutil.cpu_times()
    return t.user + t.nice + t.system + t.irq + t.softirq + getattr(t, "steal", 0.0)


class CpuSampler:
    """Sample the CPU time of each process group every second, for the hold window."""

    GROUPS = ("gunicorn", "postgres", "redis", "loadgen", "postgres_other", "profiler")

    def __init__(self, gunicorn_pid: int, database: str) -> None:
        self.master = psutil.Process(gunicorn_pid)
        self.database = database
        self.me = psutil.Process()
        self.accounts = {group: capacity_report.CpuAccount() for group in self.GROUPS}
        self.window_start = (time.monotonic(), _machine_busy())

    def _groups(self) -> dict[str, list[psutil.Process]]:
        found: dict[str, list[psutil.Process]] = {g: [] for g in self.GROUPS}
        with contextlib.suppress(psutil.NoSuchProcess):
            found["gunicorn"] = [self.master, *self.master.children(recursive=True)]
        found["loadgen"] = [self.me]
        for process in psutil.process_iter(["name", "cmdline"]):
            name = process.info["name"] or ""
            if name == "redis-server":
                found["redis"].append(process)
            elif name == "py-spy":
                found["profiler"].append(process)
            elif name == "postgres":
                role = capacity_report.postgres_role(
                    " ".join(process.info["cmdline"] or []), self.database
                )
                found["postgres_other" if role == "other" else "postgres"].append(process)
        return found

    def sample(self) -> None:
        for group, processes in self._groups().items():
            account = self.accounts[group]
            for process in processes:
                try:
                    account.observe(process.pid, process.create_time(), _cpu(process))
                except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
                    continue

    def run_forever(self) -> None:
        while True:
            self.sample()
            gevent.sleep(1.0)

    def start(self) -> None:
        self.sample()
        now = time.time()
        for account in self.accounts.values():
            account.start(now)
        self.window_start = (time.monotonic(), _machine_busy())

    def finish(self) -> dict[str, Any]:
        """Return the cores each group used over the window, and the machine's total."""
        self.sample()
        started, busy = self.window_start
        seconds = time.monotonic() - started
        cores = {g: self.accounts[g].used() / seconds for g in self.GROUPS}
        machine = (_machine_busy() - busy) / seconds
        ours = sum(cores[g] for g in ("gunicorn", "postgres", "redis", "loadgen", "profiler"))
        return {
            "cores": {
                "gunicorn": round(cores["gunicorn"], 3),
                "postgres": round(cores["postgres"], 3),
                "redis": round(cores["redis"], 3),
                "loadgen": round(cores["loadgen"], 3),
                "other": round(max(machine - ours, 0.0), 3),
                "profiler": round(cores["profiler"], 3),
            },
            "postgres_other_databases": round(cores["postgres_other"], 3),
            "machine": round(machine, 3),
            # The master counts as a process seen; only new workers are restarts.
            "worker_restarts": self.accounts["gunicorn"].started_since(),
        }


# --- Profiling -------------------------------------------------------------------------------


def start_profile(
    master_pid: int, seconds: int, rate: int, students: int
) -> tuple[subprocess.Popen, Path]:
    """Record the gunicorn master and its workers (new ones too) with py-spy.

    Only samples taken while a worker holds the GIL are kept: a worker waiting
    for PostgreSQL, or ready to run but waiting for one of the two cores, is
    not spending CPU there, and counting it would credit the functions that
    return from a socket. What is left is close to where the CPU goes.
    """
    target = OUT / f"capacity-profile-{students}.speedscope.json"
    command = [
        str(Path(PYTHON).parent / "py-spy"),
        "record",
        "--pid",
        str(master_pid),
        "--subprocesses",
        "--nonblocking",
        "--gil",
        "--rate",
        str(rate),
        "--duration",
        str(seconds),
        "--format",
        "speedscope",
        "--output",
        str(target),
    ]
    log = (OUT / f"capacity-profile-{students}.log").open("w")
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT), target


def finish_profile(process: subprocess.Popen, target: Path) -> Path | None:
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    if not target.exists():
        print(f"py-spy wrote no profile: see {target.with_suffix('').with_suffix('.log')}")
        return None
    summary = "py-spy --gil: samples taken while a worker held the GIL, close to its CPU time.\n"
    summary += capacity_report.summarise_profile(json.loads(target.read_text()), str(ROOT))
    text = target.with_name(target.name.replace(".speedscope.json", ".txt"))
    text.write_text(summary)
    return text


# --- Statistics ------------------------------------------------------------------------------


def _figures(entry: Any, seconds: float) -> dict[str, Any]:
    has = entry.num_requests > 0
    return {
        "requests": entry.num_requests,
        "rps": round(entry.num_requests / seconds, 1),
        "p50_ms": entry.get_response_time_percentile(0.50) if has else None,
        "p95_ms": entry.get_response_time_percentile(0.95) if has else None,
        "p99_ms": entry.get_response_time_percentile(0.99) if has else None,
        "max_ms": round(entry.max_response_time or 0) if has else None,
        "errors": entry.num_failures,
    }


class StatusCounter:
    """Count the answers' status codes per endpoint: how many polls were 304 and how many 200."""

    def __init__(self, environment: Environment) -> None:
        self.counts: Counter[tuple[str, int]] = Counter()
        environment.events.request.add_listener(self._count)

    def _count(self, name: str, response: Any, **_: Any) -> None:
        self.counts[(name, getattr(response, "status_code", 0) or 0)] += 1

    def reset(self) -> None:
        self.counts.clear()

    def by_endpoint(self) -> dict[str, dict[str, int]]:
        found: dict[str, dict[str, int]] = {}
        for (name, status), n in sorted(self.counts.items()):
            found.setdefault(name, {})[str(status)] = n
        return found


def step_figures(environment: Environment, seconds: float) -> dict[str, Any]:
    stats = environment.stats
    endpoints = {}
    for endpoint in capacity_report.ENDPOINTS:
        entries = [e for (name, _), e in stats.entries.items() if name == endpoint]
        if entries:
            endpoints[endpoint] = _figures(entries[0], seconds)
    errors = sorted(stats.errors.values(), key=lambda e: -e.occurrences)
    return {
        "overall": _figures(stats.total, seconds),
        "endpoints": endpoints,
        "error_samples": [
            f"{e.occurrences} x {e.method} {e.name}: {e.error}"[:300] for e in errors[:5]
        ],
    }


# --- The run ---------------------------------------------------------------------------------


def prepare(env: dict[str, str], args: argparse.Namespace, students_per_course: int) -> dict:
    """Give the server a fresh cache, the schema, static files and the evening's people."""
    redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    ensure_database(env["DATABASE_URL"])
    _manage(env, "migrate", "--noinput", "-v0")
    _manage(env, "collectstatic", "--noinput", "-v0")
    people = OUT / "capacity-people.json"
    started = time.monotonic()
    subprocess.run(
        [
            PYTHON,
            "-m",
            "bench.seed_capacity",
            str(people),
            "--courses",
            str(args.courses),
            "--students",
            str(students_per_course),
            "--messages",
            str(args.messages),
        ],
        cwd=ROOT,
        env=env,
        check=True,
    )
    total = args.courses * (students_per_course + 1)
    print(f"seeded and signed in {total:,} people in {time.monotonic() - started:.1f} s")
    return json.loads(people.read_text())


def run_step(
    environment: Environment,
    sampler: CpuSampler,
    statuses: StatusCounter,
    timeline: capacity_report.Timeline,
    args: argparse.Namespace,
    students: int,
    master_pid: int,
) -> dict[str, Any]:
    runner = environment.runner
    assert runner is not None
    runner.start(students + args.courses, spawn_rate=args.spawn_rate)
    if runner.spawning_greenlet is not None:
        runner.spawning_greenlet.join()
    gevent.sleep(args.settle)
    sampler.start()
    environment.stats.reset_all()
    statuses.reset()
    timeline.reset()
    runner.exceptions.clear()
    started = time.monotonic()
    profile = None
    if args.profile:
        profile = start_profile(master_pid, args.profile, args.profile_rate, students)
    gevent.sleep(args.hold)
    seconds = time.monotonic() - started
    figures = step_figures(environment, seconds)
    cpu = sampler.finish()
    overall = figures["overall"]
    step = {
        "students": students,
        "teachers": args.courses,
        "hold_seconds": round(seconds, 1),
        **figures,
        "statuses": statuses.by_endpoint(),
        "timeline": timeline.summary(capacity_report.P95_LIMIT_MS),
        "cpu_cores": cpu["cores"],
        "cpu_machine": cpu["machine"],
        "cpu_postgres_other_databases": cpu["postgres_other_databases"],
        "worker_restarts": cpu["worker_restarts"],
        "loadgen_saturated": cpu["cores"]["loadgen"] > LOADGEN_LIMIT,
        "loadgen_exceptions": [str(e["msg"])[:300] for e in runner.exceptions.values()],
        "profiled": bool(profile),
        "held": capacity_report.step_held(
            p95_ms=overall["p95_ms"], errors=overall["errors"], requests=overall["requests"]
        ),
    }
    if profile:
        summary = finish_profile(*profile)
        step["profile"] = {
            "speedscope": str(profile[1].relative_to(ROOT)),
            "summary": str(summary.relative_to(ROOT)) if summary else None,
        }
    return step


def _print_step(step: dict[str, Any]) -> None:
    print(capacity_report.console_row(step), flush=True)
    answers = ", ".join(
        f"{name} " + " ".join(f"{n}x{status}" for status, n in counts.items())
        for name, counts in step["statuses"].items()
    )
    print(f"    answers: {answers}")
    timeline = step["timeline"]
    worst = max(timeline["rows"], key=lambda row: row[3], default=None)
    if worst is not None:
        print(
            f"    seconds with a request over the limit: {timeline['seconds_with_slow']} "
            f"of {len(timeline['rows'])}; slowest sent at +{worst[0]} s ({worst[3]:,} ms)"
        )
    for line in step["error_samples"]:
        print(f"    error: {line}")
    for line in step["loadgen_exceptions"]:
        print(f"    load generator exception: {line}")
    if step["loadgen_saturated"]:
        print(
            f"    the load generator used {step['cpu_cores']['loadgen']:.2f} cores: "
            "latencies may include its own delay"
        )
    if step["worker_restarts"]:
        print(f"    gunicorn workers restarted: {step['worker_restarts']}")
    if step.get("profile"):
        print(f"    profile: {step['profile']['speedscope']}, {step['profile']['summary']}")


def _git_rev() -> str:
    out = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    dirty = subprocess.run(["git", "diff", "--quiet", "HEAD"], cwd=ROOT).returncode
    return out.stdout.strip() + ("+changes" if dirty else "")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", default=DEFAULT_STEPS, help="students at each step")
    parser.add_argument("--hold", type=int, default=60, help="seconds measured at each step")
    parser.add_argument("--settle", type=int, default=15, help="seconds after spawning, unmeasured")
    parser.add_argument("--spawn-rate", type=float, default=10, help="new users per second")
    parser.add_argument("--all", action="store_true", help="go on after a step fails")
    parser.add_argument("--courses", type=int, default=5, help="live courses, one teacher each")
    parser.add_argument("--messages", type=int, default=200, help="history in each channel")
    parser.add_argument("--page-seconds", type=float, default=120, help="mean time between pages")
    parser.add_argument("--student-post-seconds", type=float, default=30)
    parser.add_argument("--teacher-post-seconds", type=float, default=20)
    parser.add_argument("--posters", type=float, default=0.01, help="share of students who post")
    parser.add_argument("--poll-seconds", type=int, default=3, help="MESSAGE_POLL_SECONDS")
    parser.add_argument("--workers", type=int, help="override config/gunicorn.py's workers")
    parser.add_argument("--threads", type=int, help="override config/gunicorn.py's threads")
    parser.add_argument("--worker-class", help="override gunicorn's worker class")
    parser.add_argument(
        "--gunicorn-arg",
        dest="gunicorn_args",
        action="append",
        default=[],
        help="extra gunicorn argument (repeat), e.g. --gunicorn-arg=--preload",
    )
    parser.add_argument(
        "--profile", type=int, default=0, metavar="SECONDS", help="py-spy the workers this long"
    )
    parser.add_argument("--profile-rate", type=int, default=50, help="py-spy samples per second")
    parser.add_argument(
        "--client-priority",
        type=int,
        default=0,
        metavar="N",
        help="run the load generator N nice levels ahead of the server (0: same level)",
    )
    parser.add_argument("--bare", action="store_true", help="payments, live, AI, metrics off")
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--report", type=Path, help="print a saved run as a Markdown table")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.report:
        print(capacity_report.markdown_table(json.loads(args.report.read_text())["steps"]))
        return
    steps = sorted(int(s) for s in args.steps.split(","))
    if not _port_free(args.port):
        raise SystemExit(f"port {args.port} is taken: pass --port")
    env = _env(args.port)
    # A database and a Redis of its own, so it can run beside the other benchmarks.
    if "DATABASE_URL" not in os.environ:
        env["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/lectern_bench_capacity"
    if "REDIS_URL" not in os.environ:
        env["REDIS_URL"] = "redis://127.0.0.1:6379/12"
    if not _redis_reachable(env["REDIS_URL"]):
        raise SystemExit(f"Redis is needed (production shape) at {env['REDIS_URL']}")
    env["MESSAGE_POLL_SECONDS"] = str(args.poll_seconds)
    if not args.bare:
        env.update(EVERY_FEATURE)
        env["METRICS_TOKEN"] = secrets.token_urlsafe(32)
    OUT.mkdir(parents=True, exist_ok=True)

    people = prepare(env, args, math.ceil(steps[-1] / args.courses))
    server_settings = gunicorn_settings(env, args)
    rates = capacity_locust.Rates(
        page_seconds=args.page_seconds,
        student_post_seconds=args.student_post_seconds,
        teacher_post_seconds=args.teacher_post_seconds,
        posters_share=args.posters,
    )
    capacity_locust.configure(people, rates)
    capacity_locust.Teacher.fixed_count = args.courses
    base = f"http://127.0.0.1:{args.port}"
    server = start_gunicorn(env, args.port, args)
    if args.client_priority:
        # The students' browsers stand in for machines of their own: run ahead of the
        # server on this one, so the time a request waits is the server's, not the
        # load generator's own wait for a core (its CPU is still counted and taken).
        os.setpriority(os.PRIO_PROCESS, 0, -args.client_priority)
    results: list[dict[str, Any]] = []
    try:
        _wait_for(f"{base}/healthz")
        environment = Environment(
            user_classes=[capacity_locust.Teacher, capacity_locust.Student], host=base
        )
        runner = environment.create_local_runner()
        statuses = StatusCounter(environment)
        timeline = capacity_report.Timeline(environment)
        sampler = CpuSampler(server.pid, env["DATABASE_URL"].rsplit("/", 1)[1])
        gevent.spawn(sampler.run_forever)
        print(
            f"gunicorn: {server_settings['workers']} {server_settings['worker_class']} workers "
            f"({server_settings['threads']} threads each), max_requests "
            f"{server_settings['max_requests']} ± {server_settings['max_requests_jitter']}; "
            f"{args.courses} courses; hold {args.hold} s per step; CPU in cores"
        )
        print(capacity_report.console_header())
        for students in steps:
            step = run_step(environment, sampler, statuses, timeline, args, students, server.pid)
            results.append(step)
            _print_step(step)
            if not step["held"] and not args.all:
                break
        runner.quit()
    finally:
        stop(server)

    summary = {
        "max_students_held": capacity_report.max_students_held(results),
        "p95_limit_ms": capacity_report.P95_LIMIT_MS,
        "steps": results,
        "settings": {
            **server_settings,
            "courses": args.courses,
            "rates": rates.__dict__,
            "poll_seconds": args.poll_seconds,
            "hold_seconds": args.hold,
            "settle_seconds": args.settle,
            "spawn_rate": args.spawn_rate,
            "messages_per_channel": args.messages,
            "every_feature": not args.bare,
            "git_rev": _git_rev(),
            "nproc": os.cpu_count(),
            "load_average_after": os.getloadavg(),
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": "postgresql",
            "cache": "redis",
            "locust": locust.__version__,
            "python": sys.version.split()[0],
        },
    }
    (OUT / "capacity.json").write_text(json.dumps(summary, indent=2))
    print()
    print(capacity_report.markdown_table(results))
    print(f"\nmax_students_held = {summary['max_students_held']} (artifacts/bench/capacity.json)")


if __name__ == "__main__":
    main()
