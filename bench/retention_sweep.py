"""The retention sweep over a million expired rows: throughput and the longest batch.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/lectern_bench_retention \\
        .venv/bin/python -m bench.retention_sweep [--rows 1000000] [--fresh 100000]

PostgreSQL only. Inserts, server-side with `INSERT ... SELECT generate_series`,
`--rows` notifications read more than 90 days ago (past their retention) for a
few people, plus `--fresh` recent ones that must stay, then runs the
notifications rule through `privacy.retention.sweep_rule`, exactly as the
periodic sweep does. It reports rows removed, total time, rows/s, batches and
the slowest batch transaction: the target is every batch under 500 ms, so the
sweep never holds locks long enough to be felt by the pages. Results also go to
artifacts/bench/retention_sweep.json.
"""

import argparse
import json
import os
import time
from pathlib import Path

from bench.postgres import setup_django

ROOT = Path(__file__).resolve().parent.parent
TARGET_SLOWEST_MS = 500.0
PEOPLE = 5


def _seed(expired: int, fresh: int) -> list[int]:
    from django.db import connection

    from accounts.models import User

    users = []
    for n in range(PEOPLE):
        user, _ = User.objects.get_or_create(
            email=f"retention-bench-{n}@example.com",
            defaults={"first_name": f"Bench{n}", "last_name": "Person"},
        )
        users.append(user.pk)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE notifications_notification")
        insert = """
            INSERT INTO notifications_notification (
                recipient_id, kind, title, body, url, dedupe_key, created_at, read_at,
                email_state, email_attempts
            )
            SELECT (%s::bigint[])[1 + g %% %s], 'announcement', 'Week ' || g || ' notes', '',
                   '/courses/', %s || g, now() - %s::interval, now() - %s::interval, 'none', 0
            FROM generate_series(1, %s) AS g
        """
        # Read 100 days ago, past the 90 days kept after reading.
        cursor.execute(insert, [users, PEOPLE, "old-", "120 days", "100 days", expired])
        # Read yesterday: kept.
        cursor.execute(insert, [users, PEOPLE, "new-", "2 days", "1 day", fresh])
        cursor.execute("ANALYZE notifications_notification")
    return users


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="expired rows to insert")
    parser.add_argument("--fresh", type=int, default=100_000, help="recent rows that must stay")
    parser.add_argument("--batch-size", type=int, default=None, help="rows per batch")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit(
            "This benchmark needs PostgreSQL: set DATABASE_URL, e.g. "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/lectern_bench_retention"
        )
    setup_django(url)

    from notifications.models import Notification
    from privacy import retention
    from privacy.registry import registry

    started = time.perf_counter()
    _seed(args.rows, args.fresh)
    seeded = time.perf_counter() - started
    print(
        f"Inserted {args.rows:,} expired and {args.fresh:,} recent notifications in {seeded:.1f} s"
    )

    batch_size = args.batch_size or retention.BATCH_SIZE
    rule = registry.entries["notifications.Notification"]
    started = time.perf_counter()
    outcome = retention.sweep_rule(rule, batch_size=batch_size)
    seconds = time.perf_counter() - started
    left = Notification.objects.count()

    result = {
        "rows": outcome.rows,
        "batch_size": batch_size,
        "batches": outcome.batches,
        "seconds": round(seconds, 2),
        "rows_per_second": round(outcome.rows / seconds) if seconds else None,
        "slowest_batch_ms": outcome.slowest_batch_ms,
        "target_slowest_batch_ms": TARGET_SLOWEST_MS,
        "recent_rows_left": left,
    }
    print(
        f"Swept {outcome.rows:,} rows in {seconds:.1f} s ({result['rows_per_second']:,} rows/s), "
        f"{outcome.batches:,} batches of {batch_size}, slowest batch {outcome.slowest_batch_ms} ms "
        f"(target < {TARGET_SLOWEST_MS:.0f} ms); {left:,} recent rows left"
    )
    out = ROOT / "artifacts" / "bench" / "retention_sweep.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if outcome.rows != args.rows or left != args.fresh:
        raise SystemExit("The sweep removed the wrong rows.")
    if outcome.slowest_batch_ms >= TARGET_SLOWEST_MS:
        raise SystemExit("A batch took longer than the target.")


if __name__ == "__main__":
    main()
