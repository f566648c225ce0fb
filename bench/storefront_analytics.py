"""Storefront throughput with analytics on, against the bare view, side by side, under gunicorn.

    .venv/bin/python -m bench.storefront_analytics [--seconds 15] [--connections 16]

Reuses bench.storefront's set-up (production settings, PostgreSQL, Redis when
reachable, the seeded public course, gunicorn on loopback, wrk). The settings
add the analytics middleware when `config.settings.MIDDLEWARE` doesn't have it
yet. Three kinds of visitor are driven in alternating rounds with the bare
view: a first visit (no cookie: the cookie is made and set, the view counted
with a new visitor hash), a returning visitor (a signed `cls_attrib` cookie
sent back) and a browser sending `Sec-GPC: 1` (counted anonymously). The
counters are flushed into PostgreSQL once at the end and the views counted
compared with the requests wrk made. Target: each ≥ 0.40 of the bare view's
requests/s. Results go to artifacts/bench/storefront_analytics.json.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import storefront as base
from bench.postgres import ensure_database

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
MIDDLEWARE = "analytics.middleware.StorefrontAnalyticsMiddleware"
SETTINGS = f'''
from bench.settings import *  # noqa: F403

if "{MIDDLEWARE}" not in MIDDLEWARE:
    MIDDLEWARE = [*MIDDLEWARE]
    _at = MIDDLEWARE.index("django.middleware.common.CommonMiddleware") + 1
    MIDDLEWARE.insert(_at, "{MIDDLEWARE}")
'''
HEADERS_LUA = """
wrk.headers["{name}"] = "{value}"
"""


def _settings_dir() -> str:
    folder = tempfile.mkdtemp(prefix="lectern-bench-analytics-")
    Path(folder, "bench_analytics_settings.py").write_text(SETTINGS)
    return folder


def _returning_cookie(env: dict[str, str]) -> str:
    """Make a signed first-touch cookie with the server's secret key, as a returning visitor has."""
    code = (
        "import django; django.setup();"
        "from analytics import visits;"
        "print(visits.FirstTouch('benchvisitor0123456789', 'news.example.org', '/c/x/', 0).dumps())"
    )
    out = subprocess.run(
        [PYTHON, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return out.stdout.strip().splitlines()[-1]


def _flush_and_count(env: dict[str, str]) -> dict[str, int]:
    code = (
        "import django, json; django.setup();"
        "from django.db.models import Sum;"
        "from analytics import services; from analytics.models import CourseDay;"
        "services.flush_counters();"
        "figures = CourseDay.objects.aggregate(views=Sum('views'), visitors=Sum('visitors'));"
        "print(json.dumps(figures))"
    )
    out = subprocess.run(
        [PYTHON, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=15, help="length of each wrk round")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per URL")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install -y wrk")

    env = base._env(args.port)
    env["DJANGO_SETTINGS_MODULE"] = "bench_analytics_settings"
    env["PYTHONPATH"] = os.pathsep.join(
        [_settings_dir(), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    env.setdefault("ANALYTICS_LOCAL_FLUSH_SECONDS", "0")
    if not base._redis_reachable(env["REDIS_URL"]):
        env.pop("REDIS_URL")
    ensure_database(env["DATABASE_URL"])
    base._manage(env, "migrate", "--noinput", "-v0")
    base._manage(env, "collectstatic", "--noinput", "-v0")
    path, _paid = subprocess.run(
        [PYTHON, "-m", "bench.seed_storefront"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    subprocess.run(
        [PYTHON, "-c", "import django; django.setup();"
         "from analytics.models import CourseDay, VisitorDay;"
         "CourseDay.objects.all().delete(); VisitorDay.objects.all().delete()"],
        cwd=ROOT, env=env, check=True,
    )  # fmt: skip
    if "REDIS_URL" in env:
        import redis

        redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    cookie = _returning_cookie(env)

    scripts: dict[str, str] = {}
    for name, header in (
        ("bare", None),
        ("first_visit", None),
        ("returning", ("Cookie", f"cls_attrib={cookie}")),
        ("gpc", ("Sec-GPC", "1")),
    ):
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
            if header:
                lua.write(HEADERS_LUA.format(name=header[0], value=header[1]))
            lua.write(base.LUA)
        scripts[name] = lua.name

    url = f"http://127.0.0.1:{args.port}"
    urls = {
        "bare": f"{url}/bench/bare/",
        "first_visit": f"{url}{path}",
        "returning": f"{url}{path}",
        "gpc": f"{url}{path}",
    }
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in urls}
    gunicorn = base.start_gunicorn(env, args.port, args.workers)
    try:
        base._wait_for(f"{url}/healthz")
        for name, target in urls.items():  # warm up
            base._wrk(target, 3, args.connections, scripts[name])
        counted_from = _flush_and_count(env)
        for _ in range(args.rounds):
            for name, target in urls.items():
                results[name].append(
                    base._wrk(target, args.seconds, args.connections, scripts[name])
                )
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(timeout=30)
    counted = _flush_and_count(env)

    summary: dict[str, Any] = {name: base.summarise(runs) for name, runs in results.items()}
    bare = summary["bare"]["rps"]
    summary["ratios"] = {
        name: round(summary[name]["rps"] / bare, 3) for name in ("first_visit", "returning", "gpc")
    }
    sent = sum(summary[name]["requests"] for name in ("first_visit", "returning", "gpc"))
    summary["views"] = {
        "requested": sent,
        "counted": (counted["views"] or 0) - (counted_from["views"] or 0),
    }
    summary["setup"] = {
        "gunicorn_workers": args.workers,
        "connections": args.connections,
        "seconds_per_round": args.seconds,
        "rounds": args.rounds,
        "database": env["DATABASE_URL"].split("://")[0],
        "cache": "redis" if "REDIS_URL" in env else "local memory",
    }
    out = ROOT / "artifacts" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "storefront_analytics.json").write_text(json.dumps(summary, indent=2))
    print(f"{'':14}{'req/s':>10}{'p50 ms':>10}{'p95 ms':>10}{'errors':>8}")
    for name in urls:
        s = summary[name]
        print(f"{name:14}{s['rps']:>10}{s['p50_ms']:>10}{s['p95_ms']:>10}{s['errors']:>8}")
    for name, value in summary["ratios"].items():
        verdict = "meets" if value >= base.TARGET_RATIO else "MISSES"
        print(f"{name} / bare = {value:.2f} ({verdict} the {base.TARGET_RATIO:.2f} target)")
    print(f"views requested {sent}, counted {summary['views']['counted']}")
    if any(summary[name]["errors"] for name in urls):
        raise SystemExit("some requests failed: see the errors column")


if __name__ == "__main__":
    main()
