"""Storefront throughput against a bare view, side by side, under gunicorn.

    .venv/bin/python -m bench.storefront [--seconds 15] [--connections 16]

Runs the production settings (DEBUG off, whitenoise manifest storage, the full
middleware stack) on PostgreSQL (and Redis when reachable), seeds a public
course with 40 items and 200 students, and the same course for a price whose
teacher can sell (a Stripe account with charges and payouts on), serves them
with gunicorn on loopback and drives the three URLs with wrk in alternating
rounds. It reports requests/s, p50 and p95 latency for each, and the ratios
storefront / bare and paid storefront / bare: the target is 0.40 or more for
both. Results also go to artifacts/bench/storefront.json.
"""

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.postgres import ensure_database

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
TARGET_RATIO = 0.40
LUA = """
done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  io.write(string.format(
    '{"requests": %d, "rps": %.1f, "p50_ms": %.2f, "p95_ms": %.2f, "errors": %d}\\n',
    summary.requests, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout))
end
"""


def _env(port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",  # plain HTTP on loopback; TLS ends at the proxy in production
        LOG_LEVEL="WARNING",
        PORT=str(port),
    )
    env.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/lectern_bench")
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/3")
    return env


def _redis_reachable(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


def _wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback  # nosec B310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer {url} in {seconds} s")


def start_gunicorn(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    """Serve the app with gunicorn on loopback, as production does, minus worker recycling."""
    return subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "-c",
            "config/gunicorn.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--max-requests",
            "0",
        ],
        cwd=ROOT,
        env=env,
    )


def _wrk(url: str, seconds: int, connections: int, script: str) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", script, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One URL's wrk rounds in one line: mean req/s, median p50, worst p95, totals."""
    return {
        "rps": round(sum(r["rps"] for r in runs) / len(runs), 1),
        "p50_ms": round(sorted(r["p50_ms"] for r in runs)[len(runs) // 2], 2),
        "p95_ms": round(max(r["p95_ms"] for r in runs), 2),
        "requests": sum(r["requests"] for r in runs),
        "errors": sum(r["errors"] for r in runs),
    }


def _check_open_to_buy(url: str) -> None:
    """Make sure the paid course's page offers it for sale, as a teacher who can sell gets."""
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback  # nosec B310
        if "buy-form" not in response.read().decode():
            raise SystemExit(f"{url} doesn't offer the course for sale")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=15, help="length of each wrk round")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per URL")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install -y wrk")

    env = _env(args.port)
    if not _redis_reachable(env["REDIS_URL"]):
        env.pop("REDIS_URL")
    ensure_database(env["DATABASE_URL"])
    _manage(env, "migrate", "--noinput", "-v0")
    _manage(env, "collectstatic", "--noinput", "-v0")
    path, paid_path = subprocess.run(
        [PYTHON, "-m", "bench.seed_storefront"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()

    base = f"http://127.0.0.1:{args.port}"
    gunicorn = start_gunicorn(env, args.port, args.workers)
    results: dict[str, list[dict[str, float]]] = {"bare": [], "storefront": [], "paid": []}
    try:
        _wait_for(f"{base}/healthz")
        _check_open_to_buy(f"{base}{paid_path}")
        urls = {
            "bare": f"{base}/bench/bare/",
            "storefront": f"{base}{path}",
            "paid": f"{base}{paid_path}",
        }
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
            lua.write(LUA)
        for url in urls.values():  # warm up each: imports, template and query caches
            _wrk(url, 3, args.connections, lua.name)
        for _ in range(args.rounds):
            for name, url in urls.items():
                results[name].append(_wrk(url, args.seconds, args.connections, lua.name))
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(timeout=30)

    summary: dict[str, Any] = {name: summarise(runs) for name, runs in results.items()}
    ratio = summary["storefront"]["rps"] / summary["bare"]["rps"]
    summary["ratio"] = round(ratio, 3)
    paid_ratio = summary["paid"]["rps"] / summary["bare"]["rps"]
    summary["paid_ratio"] = round(paid_ratio, 3)
    summary["setup"] = {
        "gunicorn_workers": args.workers,
        "connections": args.connections,
        "seconds_per_round": args.seconds,
        "rounds": args.rounds,
        "database": env["DATABASE_URL"].split("://")[0],
        "cache": "redis" if "REDIS_URL" in env else "local memory",
        "course": "40 items, 200 students; the paid one the same, its teacher able to sell",
    }
    out = ROOT / "artifacts" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "storefront.json").write_text(json.dumps(summary, indent=2))
    print(f"{'':12}{'req/s':>10}{'p50 ms':>10}{'p95 ms':>10}{'errors':>8}")
    for name in ("bare", "storefront", "paid"):
        s = summary[name]
        print(f"{name:12}{s['rps']:>10}{s['p50_ms']:>10}{s['p95_ms']:>10}{s['errors']:>8}")
    for name, value in (("storefront", ratio), ("paid storefront", paid_ratio)):
        verdict = "meets" if value >= TARGET_RATIO else "MISSES"
        print(f"{name} / bare = {value:.2f} ({verdict} the {TARGET_RATIO:.2f} target)")
    if any(summary[name]["errors"] for name in results):
        raise SystemExit("some requests failed: see the errors column")


if __name__ == "__main__":
    main()
