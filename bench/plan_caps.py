"""The periodic plan-cap evaluation over 10,000 teachers and a million ledger rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/lectern_bench_plan_caps \\
        .venv/bin/python -m bench.plan_caps [--teachers 10000] [--rows 1000000]

PostgreSQL only. Creates `--teachers` teachers (a quarter on Pro, a quarter on
Studio, half on Free) and the students they share (once; later runs reuse
them), then inserts `--rows` active-student rows server-side with
`INSERT ... SELECT generate_series`: every teacher gets the same number of
pairs, paid over the last 35 days, so about 6 in 7 of them count (the others
are past their 30 days, waiting for the retention sweep) and the counts vary
around the Pro cap. Then runs `billing.services.caps.evaluate_all`, as the
periodic job does, four times on a moving clock:

1. now: every teacher gets a state row; Free teachers go over (grace), Pro
   teachers near their cap are warned;
2. five days later: the grace reminders go out;
3. seven days and a second later: grace has run out (new paid enrolments
   pause), and students whose 30 days ended meanwhile stop counting;
4. a minute after that: nothing moves, the steady state of most runs.

For each run: time, rows moved by target state, reminders, and statements —
all of them, and without the two per email queued (each teacher who moves is
told once, through the outbox, whose delivery is a worker's job and is not
run here). Also times `evaluate` for one teacher, the check made at every
paid enrolment, with its query count and the plan of its one read. Results
also go to artifacts/bench/plan_caps.json.
"""

import argparse
import json
import os
import statistics
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.postgres import setup_django

ROOT = Path(__file__).resolve().parent.parent
EMAIL_PREFIX = "caps-bench"
# Statements each queued email costs: the outbox row's INSERT inside its savepoint.
EMAIL_STATEMENTS = ("SAVEPOINT", "RELEASE SAVEPOINT", 'INSERT INTO "outbox_outboundemail"')
TARGET_STEADY_STATEMENTS = 12


def _setup(url: str) -> None:
    setup_django(url)
    from config.celery import app

    # Queued emails wait in a broker nobody reads: sending them is a worker's job.
    app.conf.update(task_always_eager=False, broker_url="memory://")


def _users(kind: str, count: int) -> list[int]:
    from accounts.models import User

    emails = [f"{EMAIL_PREFIX}-{kind}-{n}@example.com" for n in range(count)]
    have = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
    User.objects.bulk_create(
        [
            User(email=email, password="!", is_teacher=kind == "teacher")
            for email in emails
            if email not in have
        ],
        batch_size=5000,
    )
    ids = dict(User.objects.filter(email__in=emails).values_list("email", "pk"))
    return [ids[email] for email in emails]


def _seed(teachers: list[int], students: list[int], rows: int, at: datetime) -> None:
    from django.db import connection

    from billing.models import Plan, Subscription

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE billing_activestudent, billing_plancapstate, billing_plancaptransition, "
            "billing_subscription, outbox_outboundemail CASCADE"
        )
        # Row g: teacher g % T, student g / T (so each pair is unique), paid 0 to 35 days ago.
        cursor.execute(
            """
            INSERT INTO billing_activestudent (teacher_id, student_id, last_paid_at)
            SELECT (%(teachers)s::bigint[])[1 + g %% %(t)s],
                   (%(students)s::bigint[])[1 + g / %(t)s],
                   %(at)s - make_interval(secs => (g * 7919) %% (35 * 86400))
            FROM generate_series(0::bigint, %(n)s - 1) AS g
            """,
            {"teachers": teachers, "students": students, "t": len(teachers), "n": rows, "at": at},
        )
        cursor.execute("ANALYZE billing_activestudent")
    plans = dict(Plan.objects.values_list("code", "pk"))
    Subscription.objects.bulk_create(
        [
            Subscription(
                teacher_id=teacher,
                plan_id=plans["pro" if n % 4 == 0 else "studio"],
                stripe_subscription_id=f"sub_{EMAIL_PREFIX}_{n}",
                interval="month",
                currency="EUR",
                status="active",
            )
            for n, teacher in enumerate(teachers)
            if n % 4 in (0, 1)
        ],
        batch_size=5000,
    )


class _Statements:
    """Every statement run through Django while installed (its own log keeps only 9,000)."""

    def __init__(self) -> None:
        self.run: list[tuple[str, Any]] = []

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.run.append((sql, params))
        return execute(sql, params, many, context)


def _run(now: datetime) -> dict[str, Any]:
    from django.db import connection

    from billing.models import PlanCapTransition
    from billing.services import caps

    before = PlanCapTransition.objects.count()
    counted = _Statements()
    with connection.execute_wrapper(counted):
        started = time.perf_counter()
        result = caps.evaluate_all(now)
        seconds = time.perf_counter() - started
    statements = [sql for sql, _ in counted.run]
    for_emails = sum(1 for sql in statements if sql.startswith(EMAIL_STATEMENTS))
    moved = Counter(
        PlanCapTransition.objects.order_by("pk")[before:].values_list("to_state", flat=True)
    )
    return {
        "at": now.isoformat(),
        "seconds": round(seconds, 2),
        **result,
        "moved_to": dict(sorted(moved.items())),
        "statements": len(statements),
        "statements_without_emails": len(statements) - for_emails,
    }


def _per_enrolment(teacher: int, now: datetime, runs: int = 20) -> dict[str, Any]:
    from django.db import connection

    from billing.services import caps

    timings = []
    for _ in range(runs):
        counted = _Statements()
        with connection.execute_wrapper(counted):
            started = time.perf_counter()
            caps.evaluate(teacher, now)
            timings.append((time.perf_counter() - started) * 1000)
    reads = [(sql, params) for sql, params in counted.run if "billing_activestudent" in sql]
    read, params = reads[0]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) {read}", params)
        plan = [line for (line,) in cursor.fetchall()]
    return {
        "median_ms": round(statistics.median(timings), 2),
        "statements": len(counted.run),
        "ledger_reads": len(reads),
        "read_plan": plan,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--teachers", type=int, default=10_000, help="teachers to evaluate")
    parser.add_argument("--rows", type=int, default=1_000_000, help="active-student rows")
    args = parser.parse_args()
    if args.rows % args.teachers:
        raise SystemExit("--rows must be a multiple of --teachers (each gets as many pairs).")

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit(
            "This benchmark needs PostgreSQL: set DATABASE_URL, e.g. "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/lectern_bench_plan_caps"
        )
    _setup(url)

    from billing.models import PlanCapState

    now = datetime.now(UTC).replace(microsecond=0)
    started = time.perf_counter()
    teachers = _users("teacher", args.teachers)
    students = _users("student", args.rows // args.teachers)
    people_seconds = time.perf_counter() - started
    started = time.perf_counter()
    _seed(teachers, students, args.rows, now)
    seed_seconds = time.perf_counter() - started
    print(
        f"{len(teachers):,} teachers and {len(students):,} students in {people_seconds:.1f} s; "
        f"{args.rows:,} ledger rows inserted in {seed_seconds:.1f} s"
    )

    clocks = {
        "first": now,
        "reminders": now + timedelta(days=5),
        "grace_ends": now + timedelta(days=7, seconds=1),
        "steady": now + timedelta(days=7, minutes=1),
    }
    runs = {}
    for name, at in clocks.items():
        runs[name] = _run(at)
        figures = runs[name]
        print(
            f"{name}: {figures['evaluated']:,} teachers in {figures['seconds']} s, "
            f"moved {figures['moved_to'] or 'none'}, {figures['reminded']:,} reminders, "
            f"{figures['statements']:,} statements "
            f"({figures['statements_without_emails']} without the emails' inserts)"
        )
    states = Counter(PlanCapState.objects.values_list("state", flat=True))
    one = _per_enrolment(teachers[0], clocks["steady"])
    print(
        f"evaluate(one teacher): {one['median_ms']} ms, {one['statements']} statements, "
        f"{one['ledger_reads']} ledger read"
    )

    result = {
        "teachers": len(teachers),
        "ledger_rows": args.rows,
        "seed_seconds": round(seed_seconds, 1),
        "runs": runs,
        "states_after": dict(sorted(states.items())),
        "per_enrolment_evaluate": one,
        "target_steady_statements": TARGET_STEADY_STATEMENTS,
    }
    out = ROOT / "artifacts" / "bench" / "plan_caps.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    if runs["steady"]["moved"] or runs["steady"]["statements"] > TARGET_STEADY_STATEMENTS:
        raise SystemExit("The steady run moved teachers or made more statements than planned.")
    if one["ledger_reads"] != 1:
        raise SystemExit("The check at each enrolment read the ledger more than once.")


if __name__ == "__main__":
    main()
