"""What being signed in costs: a visitor's bare view, a signed-in one and an idle poll.

    .venv/bin/python -m bench.signed_in [--seconds 15] [--connections 16]

Runs the production settings (DEBUG off, the full middleware stack) on
PostgreSQL (and Redis when reachable), seeds a course channel with 1,000
messages and a signed-in student (`bench.seed_messaging`), serves it with
gunicorn on loopback and drives three URLs with wrk in alternating rounds:

- `visitor`: the bare view without a session cookie;
- `signed_in`: the same bare view as the student, so the whole cost of being
  signed in (session, user, the middleware that acts for signed-in people);
- `idle_poll`: the channel's poll as the student, with the ETag of what the
  student already has, so every answer is a 304.

It reports requests/s, p50 and p95 latency for each and two ratios:
signed_in / visitor (target 0.50 or more) and idle_poll / signed_in (target
0.90 or more). Results also go to artifacts/bench/signed_in.json.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import tempfile
from typing import Any

from bench.postgres import ensure_database
from bench.storefront import (
    LUA,
    PYTHON,
    ROOT,
    _env,
    _manage,
    _redis_reachable,
    _wait_for,
    start_gunicorn,
    summarise,
)

TARGETS = {"signed_in / visitor": 0.50, "idle_poll / signed_in": 0.90}


def _wrk(url: str, seconds: int, connections: int, script: str, headers: list[str]) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", script]
    for header in headers:
        command += ["-H", header]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _check(url: str, headers: list[str], expected: int) -> None:
    """Make sure a URL answers what the benchmark assumes before measuring it."""
    command = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", url]
    for header in headers:
        command += ["-H", header]
    status = int(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
    if status != expected:
        raise SystemExit(f"{url} answered {status}, expected {expected}")


def _seed(env: dict[str, str]) -> dict[str, str]:
    out = subprocess.run(
        [PYTHON, "-m", "bench.seed_messaging"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=15, help="length of each wrk round")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per URL")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--port", type=int, default=8772)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install -y wrk")

    env = _env(args.port)
    # A database and a Redis of its own, so it can run beside the other benchmarks.
    if "DATABASE_URL" not in os.environ:
        env["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/lectern_bench_signed_in"
    if "REDIS_URL" not in os.environ:
        env["REDIS_URL"] = "redis://127.0.0.1:6379/5"
    if not _redis_reachable(env["REDIS_URL"]):
        env.pop("REDIS_URL")
    ensure_database(env["DATABASE_URL"])
    _manage(env, "migrate", "--noinput", "-v0")
    _manage(env, "collectstatic", "--noinput", "-v0")
    seeded = _seed(env)
    cookie = [f"Cookie: {seeded['cookie']}"]
    base = f"http://127.0.0.1:{args.port}"
    urls = {
        "visitor": (f"{base}/bench/bare/", [], 200),
        "signed_in": (f"{base}/bench/bare/", cookie, 200),
        "idle_poll": (
            f"{base}{seeded['poll']}",
            [*cookie, f"If-None-Match: {seeded['etag']}", "HX-Request: true"],
            304,
        ),
    }
    results: dict[str, list[dict[str, float]]] = {name: [] for name in urls}
    gunicorn = start_gunicorn(env, args.port, args.workers)
    try:
        _wait_for(f"{base}/healthz")
        for url, headers, status in urls.values():
            _check(url, headers, status)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
            lua.write(LUA)
        for url, headers, _ in urls.values():  # warm up: imports, the session's first write
            _wrk(url, 3, args.connections, lua.name, headers)
        for _ in range(args.rounds):
            for name, (url, headers, _) in urls.items():
                results[name].append(_wrk(url, args.seconds, args.connections, lua.name, headers))
        for url, headers, status in urls.values():
            _check(url, headers, status)
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(timeout=30)

    summary: dict[str, Any] = {name: summarise(runs) for name, runs in results.items()}
    ratios = {
        "signed_in / visitor": summary["signed_in"]["rps"] / summary["visitor"]["rps"],
        "idle_poll / signed_in": summary["idle_poll"]["rps"] / summary["signed_in"]["rps"],
    }
    summary["ratios"] = {name: round(value, 3) for name, value in ratios.items()}
    summary["setup"] = {
        "gunicorn_workers": args.workers,
        "connections": args.connections,
        "seconds_per_round": args.seconds,
        "rounds": args.rounds,
        "database": env["DATABASE_URL"].split("://")[0],
        "cache": "redis" if "REDIS_URL" in env else "local memory",
        "channel": "1,000 messages; every poll answered 304",
    }
    out = ROOT / "artifacts" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "signed_in.json").write_text(json.dumps(summary, indent=2))
    print(f"{'':12}{'req/s':>10}{'p50 ms':>10}{'p95 ms':>10}{'errors':>8}")
    for name in urls:
        s = summary[name]
        print(f"{name:12}{s['rps']:>10}{s['p50_ms']:>10}{s['p95_ms']:>10}{s['errors']:>8}")
    for name, value in ratios.items():
        verdict = "meets" if value >= TARGETS[name] else "MISSES"
        print(f"{name} = {value:.2f} ({verdict} the {TARGETS[name]:.2f} target)")
    if any(summary[name]["errors"] for name in urls):
        raise SystemExit("some requests failed: see the errors column")


if __name__ == "__main__":
    main()
