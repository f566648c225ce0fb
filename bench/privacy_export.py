"""Memory of "Download my data" for a large account against one a tenth of its size.

    .venv/bin/python -m bench.privacy_export [--messages 50000] [--submissions 5000] [--files 200]

Seeds two people on PostgreSQL (DATABASE_URL, by default a `lectern_bench_export`
database): a large account and one a tenth of its size, each with small
uploaded files (4-20 KB). Each export is then built by `privacy.export.build`
twice, each time in a fresh subprocess after a warm-up export of an empty
account (so imports and template compilation are not counted):

- once plain, for the time and the process's peak resident set size
  (ru_maxrss, what a worker's memory limit sees, C buffers included);
- once under tracemalloc, for the peak of memory allocated during the build
  itself: the growth the target is about.

It prints both accounts' figures and the ratio large / small of the peak
growth: the target is 1.2 or less, i.e. memory does not follow the size of the
account. Results also go to artifacts/bench/privacy_export.json.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from bench.postgres import ensure_database

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
TARGET_RATIO = 1.2


def _env(media_root: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DEBUG="0",
        SECRET_KEY=env.get("SECRET_KEY", "bench-secret-key-not-for-production-0123456789abcdef"),
        ALLOWED_HOSTS="127.0.0.1",
        LOG_LEVEL="WARNING",
        MEDIA_ROOT=media_root,
    )
    env.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/lectern_bench_export")
    return env


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def build_one(user_id: int, warmup_user_id: int, traced: int) -> dict[str, Any]:
    """Run in a fresh process: export `user_id` after a warm-up export of `warmup_user_id`."""
    import django

    django.setup()
    from django.test.utils import override_settings

    from privacy import export
    from privacy.models import ExportRequest

    made = ExportRequest.objects.create(user_id=user_id)
    warmup = ExportRequest.objects.create(user_id=warmup_user_id)
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        export.build(warmup.pk)
        baseline = _maxrss_mb()
        if traced:
            tracemalloc.start()
        started = time.perf_counter()
        export.build(made.pk)
        seconds = time.perf_counter() - started
    made.refresh_from_db()
    assert made.state == ExportRequest.State.READY, made.error
    if traced:
        return {"heap_growth_mb": round(tracemalloc.get_traced_memory()[1] / 1024 / 1024, 2)}
    peak = _maxrss_mb()
    return {
        "seconds": round(seconds, 2),
        "zip_mb": round((made.size or 0) / 1024 / 1024, 2),
        "rss_before_mb": round(baseline, 1),
        "rss_peak_mb": round(peak, 1),
        "rss_growth_mb": round(peak - baseline, 1),
    }


def seed(messages: int, submissions: int, files: int) -> dict[str, int]:
    """Seed the large and the small account; return their user ids (and a warm-up's)."""
    import secrets

    import django

    django.setup()
    from accounts.models import User
    from bench.seed_privacy import seed_account

    tag = secrets.token_hex(3)
    teacher = User.objects.create_user(
        email=f"bench-export-teacher-{tag}@lectern.localhost", is_teacher=True
    )
    ids = {}
    for name, scale in (("large", 1), ("small", 10), ("warmup", 0)):
        person = User.objects.create_user(email=f"bench-export-{name}-{tag}@lectern.localhost")
        if scale:
            seed_account(
                person,
                teacher,
                messages=messages // scale,
                submissions=submissions // scale,
                files=files // scale,
            )
        ids[name] = person.pk
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--submissions", type=int, default=5_000)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--child", nargs=3, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print("RESULT " + json.dumps(build_one(*args.child)), flush=True)
        return

    media = tempfile.mkdtemp(prefix="lectern-bench-export-")
    env = _env(media)
    ensure_database(env["DATABASE_URL"])
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    os.environ.update(env)
    started = time.perf_counter()
    ids = seed(args.messages, args.submissions, args.files)
    print(f"seeded in {time.perf_counter() - started:.1f} s", flush=True)

    results: dict[str, Any] = {}
    for name in ("small", "large"):
        results[name] = {}
        for traced in (0, 1):
            # A fresh process each, so one build's peak can't hide inside another's.
            child = [str(ids[name]), str(ids["warmup"]), str(traced)]
            run = subprocess.run(
                [PYTHON, "-m", "bench.privacy_export", "--child", *child],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            line = next(x for x in run.stdout.splitlines() if x.startswith("RESULT "))
            results[name].update(json.loads(line.removeprefix("RESULT ")))
    large, small = results["large"], results["small"]
    ratio = large["heap_growth_mb"] / small["heap_growth_mb"]
    summary = {
        "accounts": {
            "large": {
                "messages": args.messages,
                "submissions": args.submissions,
                "files": args.files,
            },
            "small": {
                "messages": args.messages // 10,
                "submissions": args.submissions // 10,
                "files": args.files // 10,
            },
        },
        **results,
        "heap_growth_ratio": round(ratio, 3),
        "peak_rss_ratio": round(large["rss_peak_mb"] / small["rss_peak_mb"], 3),
        "target": TARGET_RATIO,
        "ok": ratio <= TARGET_RATIO,
    }
    for name in ("small", "large"):
        r = results[name]
        print(
            f"{name:>5}: {r['seconds']:6.2f} s  zip {r['zip_mb']:7.2f} MB  "
            f"peak memory growth {r['heap_growth_mb']:5.2f} MB  "
            f"peak RSS {r['rss_peak_mb']:6.1f} MB (+{r['rss_growth_mb']:.1f} MB during the build)"
        )
    verdict = "ok" if summary["ok"] else "over target"
    print(f"peak memory growth large / small: {ratio:.3f} (target <= {TARGET_RATIO}) {verdict}")
    out = ROOT / "artifacts" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "privacy_export.json").write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
