"""The GMV rebuild over a million purchases, and folding a month into the years.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/lectern_bench_gmv \\
        .venv/bin/python -m bench.gmv [--purchases 1000000] [--teachers 10000]

PostgreSQL only. Creates `--teachers` teachers with two courses each and
50,000 students (once; later runs reuse them), then inserts, server-side with
`INSERT ... SELECT generate_series`, `--purchases` purchases spread over the
36 months before the current one: three currencies (a tenth in JPY), coupons,
full and partial refunds, disputes, erased buyers and some never paid. Then:

- runs `billing.services.gmv.rebuild` (what `manage.py rebuild_gmv` does) and
  reports its time and query count, and checks the totals against the
  purchases (money in = money out);
- times `purchase_changed` for one sale in a kept month and one in a folded
  year, with their query counts (constant: 3 and 4);
- moves the clock into the next month and runs the GmvMonth retention rule,
  as the periodic sweep does, folding the month that crossed the horizon:
  rows folded, batches, and the slowest batch (target under 500 ms, as for
  every retention batch).

Results also go to artifacts/bench/gmv.json.
"""

import argparse
import json
import os
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.postgres import setup_django

ROOT = Path(__file__).resolve().parent.parent
STUDENTS = 50_000
TARGET_REBUILD_QUERIES = 4
TARGET_SLOWEST_FOLD_MS = 500.0
EMAIL_PREFIX = "gmv-bench"


def _people(teachers: int) -> tuple[list[int], list[int], list[int]]:
    """The bench's teachers, their courses (two each, in teacher order) and students."""
    from accounts.models import User
    from courses.models import Course

    def users(kind: str, count: int) -> list[int]:
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

    teacher_ids = users("teacher", teachers)
    slugs = [f"{EMAIL_PREFIX}-{n}-{k}" for n in range(teachers) for k in range(2)]
    have = set(Course.objects.filter(slug__in=slugs).values_list("slug", flat=True))
    Course.objects.bulk_create(
        [
            Course(teacher_id=teacher_ids[n // 2], title=f"Course {slug}", slug=slug)
            for n, slug in enumerate(slugs)
            if slug not in have
        ],
        batch_size=5000,
    )
    course_ids = dict(Course.objects.filter(slug__in=slugs).values_list("slug", "pk"))
    return teacher_ids, [course_ids[slug] for slug in slugs], users("student", STUDENTS)


def _seed(purchases: int, teachers: list[int], courses: list[int], students: list[int]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE billing_purchase, billing_gmvmonth, billing_gmvyear CASCADE")
        # g numbers the purchase; teacher g % T; months back 1..36 from (g / T) % 36, so every
        # teacher has sales in every month, in several currencies; the rest varies with g so
        # every case comes up.
        cursor.execute(
            """
            WITH base AS (
                SELECT g,
                       g %% %(t)s AS ti,
                       1 + (g / %(t)s) %% 36 AS back,
                       1000 + (g * 7919) %% 49000 AS gross,
                       CASE WHEN g %% 8 = 0 THEN (1000 + (g * 7919) %% 49000) / 5 ELSE 0 END
                           AS discount
                FROM generate_series(0::bigint, %(n)s - 1) AS g
            ),
            priced AS (
                SELECT *, gross - discount AS amount,
                       CASE WHEN g %% 53 = 7 THEN 'expired'
                            WHEN g %% 97 = 5 THEN 'disputed'
                            WHEN g %% 20 = 0 THEN 'refunded'
                            WHEN g %% 20 = 1 THEN 'partially_refunded'
                            ELSE 'paid' END AS status,
                       (date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')
                           - make_interval(months => back::int)
                           + make_interval(days => (g * 37 %% 27)::int, secs => g %% 86400)
                           AS paid_at
                FROM base
            )
            INSERT INTO billing_purchase (
                teacher_id, student_id, course_id, course_title, connect_account_id, coupon_code,
                gross_amount, discount_amount, amount, currency, application_fee_amount,
                refunded_amount, status, failure_reason, checkout_url, charge_id, receipt_url,
                keep_access_on_refund, created_at, updated_at, paid_at
            )
            SELECT (%(teachers)s::bigint[])[ti + 1],
                   CASE WHEN g %% 101 = 0 THEN NULL
                        ELSE (%(students)s::bigint[])[1 + (g * 7919) %% %(s)s] END,
                   (%(courses)s::bigint[])[1 + 2 * ti + (g / %(t)s) %% 2],
                   'Course ' || ti || '-' || (g / %(t)s) %% 2,
                   'acct_bench_' || ti,
                   CASE WHEN discount > 0 THEN 'SPRING' ELSE '' END,
                   gross, discount, amount,
                   CASE (g + g / %(t)s) %% 10 WHEN 0 THEN 'JPY' WHEN 1 THEN 'USD'
                        WHEN 2 THEN 'USD' ELSE 'EUR' END,
                   amount * 5 / 100,
                   CASE status WHEN 'refunded' THEN amount
                               WHEN 'partially_refunded' THEN amount / 3 ELSE 0 END,
                   status, '', '', '', '', false, paid_at, paid_at,
                   CASE WHEN status = 'expired' THEN NULL ELSE paid_at END
            FROM priced
            """,
            {
                "n": purchases,
                "t": len(teachers),
                "s": len(students),
                "teachers": teachers,
                "courses": courses,
                "students": students,
            },
        )
        cursor.execute("ANALYZE billing_purchase")


def _money_in_and_out() -> tuple[dict[str, int], dict[str, int]]:
    """Gross per currency from the purchases, and from the month and year rows."""
    from django.db import connection

    counted = "', '".join(("paid", "partially_refunded", "refunded", "disputed"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT currency, SUM(amount) FROM billing_purchase "
            f"WHERE status IN ('{counted}') AND paid_at IS NOT NULL GROUP BY currency"  # nosec B608
        )
        purchases = {currency: int(total) for currency, total in cursor.fetchall()}
        cursor.execute(
            "SELECT currency, SUM(gross) FROM (SELECT currency, gross FROM billing_gmvmonth "
            "UNION ALL SELECT currency, gross FROM billing_gmvyear) AS rows GROUP BY currency"
        )
        totals = {currency: int(total) for currency, total in cursor.fetchall()}
    return purchases, totals


def _time_incremental(purchase: Any, runs: int = 20) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from billing.services import gmv

    timings = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            gmv.purchase_changed(purchase)
            timings.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(statistics.median(timings), 2), "queries": _statements(ctx)}


def _statements(ctx: Any) -> int:
    """How many statements ran, leaving out the transaction's own BEGIN and COMMIT."""
    return sum(1 for q in ctx.captured_queries if q["sql"] not in ("BEGIN", "COMMIT"))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--purchases", type=int, default=1_000_000, help="purchases to insert")
    parser.add_argument(
        "--teachers", type=int, default=10_000, help="teachers they are spread over"
    )
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit(
            "This benchmark needs PostgreSQL: set DATABASE_URL, e.g. "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/lectern_bench_gmv"
        )
    setup_django(url)

    import time_machine
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from billing.models import GmvMonth, GmvYear, Purchase
    from billing.services import gmv
    from privacy import retention
    from privacy.registry import registry

    started = time.perf_counter()
    teachers, courses, students = _people(args.teachers)
    people_seconds = time.perf_counter() - started
    started = time.perf_counter()
    _seed(args.purchases, teachers, courses, students)
    seed_seconds = time.perf_counter() - started
    print(
        f"{len(teachers):,} teachers, {len(courses):,} courses, {len(students):,} students in "
        f"{people_seconds:.1f} s; {args.purchases:,} purchases inserted in {seed_seconds:.1f} s"
    )

    with CaptureQueriesContext(connection) as ctx:
        started = time.perf_counter()
        months, years = gmv.rebuild()
        rebuild_seconds = time.perf_counter() - started
    rebuild_queries = _statements(ctx)
    money_in, money_out = _money_in_and_out()
    print(
        f"Rebuilt {months:,} month rows and {years:,} year rows from {args.purchases:,} "
        f"purchases in {rebuild_seconds:.1f} s, {rebuild_queries} queries"
    )

    edge = gmv.horizon()
    edge_at = datetime(edge.year, edge.month, edge.day, tzinfo=UTC)
    kept = Purchase.objects.filter(status="paid", paid_at__gte=edge_at)
    folded = Purchase.objects.filter(status="paid", paid_at__lt=edge_at)
    incremental = {
        "month": _time_incremental(kept.first()),
        "folded_year": _time_incremental(folded.first()),
    }
    print(
        "purchase_changed: "
        + ", ".join(
            f"{where} {figures['median_ms']} ms in {figures['queries']} queries"
            for where, figures in incremental.items()
        )
    )

    # Into the next month: the month at the horizon crosses it and the sweep folds it.
    now = datetime.now(UTC)
    next_month = datetime(now.year + now.month // 12, now.month % 12 + 1, 2, tzinfo=UTC)
    with time_machine.travel(next_month, tick=True):
        due = gmv.months_to_fold().count()
        started = time.perf_counter()
        outcome = retention.sweep_rule(registry.entries["billing.GmvMonth"])
        fold_seconds = time.perf_counter() - started
        left = gmv.months_to_fold().count()
    money_in_after, money_out_after = _money_in_and_out()
    print(
        f"Folded {outcome.rows:,} month rows into years in {fold_seconds:.1f} s, "
        f"{outcome.batches} batches, slowest {outcome.slowest_batch_ms} ms "
        f"(target < {TARGET_SLOWEST_FOLD_MS:.0f} ms); {left} left to fold"
    )

    result = {
        "purchases": args.purchases,
        "teachers": len(teachers),
        "seed_seconds": round(seed_seconds, 1),
        "rebuild": {
            "seconds": round(rebuild_seconds, 2),
            "queries": rebuild_queries,
            "target_queries": TARGET_REBUILD_QUERIES,
            "month_rows": months,
            "year_rows": years,
            "purchases_per_second": round(args.purchases / rebuild_seconds),
        },
        "purchase_changed": incremental,
        "fold_next_month": {
            "due": due,
            "rows": outcome.rows,
            "batches": outcome.batches,
            "seconds": round(fold_seconds, 2),
            "slowest_batch_ms": outcome.slowest_batch_ms,
            "target_slowest_batch_ms": TARGET_SLOWEST_FOLD_MS,
            "month_rows_after": GmvMonth.objects.count(),
            "year_rows_after": GmvYear.objects.count(),
        },
        "gross_by_currency": money_in,
    }
    out = ROOT / "artifacts" / "bench" / "gmv.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    if money_in_after != money_in or money_out != money_in or money_out_after != money_in:
        raise SystemExit(f"The totals don't add up: {money_in} in, {money_out} out.")
    if rebuild_queries > TARGET_REBUILD_QUERIES:
        raise SystemExit("The rebuild made more queries than its set-based plan.")
    if outcome.rows != due or left:
        raise SystemExit("The fold left months behind.")
    if outcome.slowest_batch_ms >= TARGET_SLOWEST_FOLD_MS:
        raise SystemExit("A fold batch took longer than the target.")


if __name__ == "__main__":
    main()
