"""How fast one Celery worker processes stored Stripe events (part of bench/webhooks.py).

    .venv/bin/python -m bench.webhooks --skip-ingest [--events 10000] [--sales 1000]
        [--worker-pools prefork,solo] [--worker-enqueue wake|each]

Stores `--events` StripeEvent rows as the webhook endpoint would and wakes the
processor as a stored event does (one `drain_stripe_events_task`, which runs
every due event, 500 a task; `--worker-enqueue each` queues one
`process_stripe_event_task` per event instead, as the periodic job and
replays do), on the Redis broker with no worker listening. Then it starts one
worker with one process (`celery -A config worker --concurrency=1`, with each
pool of `--worker-pools`) and times it through them. The mix, in the order
Stripe sends it:

- `--sales` course sales, seven events each: `payment_intent.created`,
  `checkout.session.completed` (a pending purchase that exists, with its seat
  held: the worker records the payment, turns the hold into an enrolment,
  queues the receipt and tells the teacher), `charge.succeeded`,
  `payment_intent.succeeded`, `charge.updated`, `application_fee.created`,
  `transfer.created` (the last five Lectern stores and marks done);
- the rest `account.updated` for connected accounts Lectern doesn't hold
  (one query, nothing to do).

It reports events/s from the first event processed to the last, the time
per event by type (the gap between consecutive events processed) and the
wall time from starting the worker. An event whose handler raises counts as
processed when its failure is recorded (and the run then ends in an error,
naming it). The receipts and notifications the sales queue are tasks of
their own: woken once, the processor's next batch queues behind those of
the batch before, so with one worker process they are part of the time;
with a task per event they wait behind all the events and are not. The time
until the queue is empty is reported apart.

Run as `python -m bench.webhook_worker` (by bench/webhooks.py, with its
environment), it seeds the rows and enqueues the tasks, then prints what it
did as JSON.
"""

import argparse
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from typing import Any

from bench.storefront import PYTHON, ROOT
from bench.stripe_events import PRICE, event_mix, new_tag
from bench.webhooks import purge_queue, queued_tasks

COURSE_SLUG = "bench-webhooks-paid"
STALL_SECONDS = 60
DRAIN_BATCH = 500  # events a woken processor runs a task (billing.webhooks.drain's limit)


# --- The child: seed and enqueue (Django) ---------------------------------------------------


def seed_and_enqueue(events: int, sales: int, enqueue: str) -> dict[str, Any]:
    """Store the events (and the purchases their sales complete), then queue their processing."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    django.setup()

    from datetime import timedelta

    from django.contrib.auth.hashers import make_password
    from django.core.cache import cache
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import User
    from billing import webhooks
    from billing.models import ConnectAccount, Purchase, StripeEvent
    from billing.services import common, plans, pricing
    from billing.tasks import process_stripe_event_task
    from courses.models import Course, Enrollment, Visibility

    now = timezone.now()
    tag, created = new_tag(), int(time.time()) - events
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE billing_stripeevent")
        teacher, _ = User.objects.get_or_create(
            email="bench-seller@lectern.localhost",
            defaults={
                "first_name": "Bench",
                "last_name": "Seller",
                "is_teacher": True,
                "handle": "bench-seller-webhooks",
            },
        )
        account, _ = ConnectAccount.objects.update_or_create(
            teacher=teacher,
            defaults={
                "stripe_account_id": "acct_bench_webhooks",
                "country": "FR",
                "default_currency": "EUR",
                "charges_enabled": True,
                "payouts_enabled": True,
                "details_submitted": True,
            },
        )
        course, _ = Course.objects.get_or_create(
            slug=COURSE_SLUG,
            defaults={
                "teacher": teacher,
                "title": "Figure Drawing, Paid",
                "summary": "Six live evenings of gesture and proportion.",
                "timezone": "Europe/Paris",
                "visibility": Visibility.PUBLIC,
                "price_amount": PRICE,
                "currency": "EUR",
                "published_at": now,
            },
        )
        Purchase.objects.filter(course=course).delete()
        User.objects.filter(email__startswith="bench-buyer-").delete()
        password = make_password("bench-buyer")
        students = User.objects.bulk_create(
            [
                User(
                    email=f"bench-buyer-{i}@lectern.localhost",
                    first_name="Buyer",
                    last_name=str(i),
                    is_student=True,
                    password=password,
                )
                for i in range(sales)
            ]
        )
        hold_until = now + timedelta(hours=2)
        fee = pricing.platform_fee(PRICE, plans.plan_of(teacher))
        Enrollment.objects.bulk_create(
            [
                Enrollment(
                    course=course,
                    student=student,
                    status=Enrollment.Status.HELD,
                    hold_reason=Enrollment.HoldReason.PAYMENT,
                    hold_expires_at=hold_until,
                )
                for student in students
            ]
        )
        purchases = Purchase.objects.bulk_create(
            [
                Purchase(
                    student=student,
                    teacher=teacher,
                    course=course,
                    course_title=course.title,
                    connect_account_id=account.stripe_account_id,
                    gross_amount=PRICE,
                    amount=PRICE,
                    currency="EUR",
                    application_fee_amount=fee,
                    checkout_session_id=f"cs_bench_{tag}_{i}",
                    expires_at=now + timedelta(minutes=30),
                )
                for i, student in enumerate(students)
            ]
        )
        mix = event_mix(
            tag,
            [p.pk for p in purchases],
            events,
            account=account.stripe_account_id,
            created=created,
        )
        StripeEvent.objects.bulk_create(
            [
                StripeEvent(
                    event_id=data["id"],
                    type=data["type"],
                    source=source,
                    account=data.get("account") or "",
                    stripe_created_at=common.stripe_time(data["created"]),
                    payload=data,
                )
                for source, data in mix
            ],
            batch_size=1000,
        )
    started = time.monotonic()
    if enqueue == "each":
        for _, data in mix:
            process_stripe_event_task.delay(data["id"])
    else:
        cache.delete(webhooks.INBOX.wake_key)
        webhooks.wake_processor()
    by_type: dict[str, int] = {}
    for _, data in mix:
        by_type[data["type"]] = by_type.get(data["type"], 0) + 1
    return {
        "events": len(mix),
        "sales": sales,
        "by_type": by_type,
        "enqueue_seconds": round(time.monotonic() - started, 2),
        "course_id": course.pk,
        "body_bytes": round(sum(len(json.dumps(d, indent=2)) for _, d in mix) / len(mix)),
    }


# --- The parent: run the worker and time it -------------------------------------------------


def _query(database_url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(database_url) as conn:
        return conn.execute(sql, params).fetchall()


# When an event's first attempt ended: done, or its failure recorded (`process` then sets the
# next attempt one back-off later: 2 ** (attempts - 1) minutes).
SETTLED_AT = (
    "CASE WHEN status = 'done' THEN processed_at"
    " WHEN attempts > 0 AND status <> 'processing'"
    " THEN next_attempt_at - interval '1 minute' * power(2, attempts - 1) END"
)


def _counts(database_url: str) -> tuple[int, int]:
    """Events done, and events whose first attempt ended either way."""
    row = _query(
        database_url,
        "SELECT count(*) FILTER (WHERE status = 'done'),"
        " count(*) FILTER (WHERE status = 'done' OR (attempts > 0 AND status <> 'processing'))"
        " FROM billing_stripeevent",
    )[0]
    return int(row[0]), int(row[1])


def _in_flight(redis_url: str) -> int:
    import redis

    client = redis.Redis.from_url(redis_url)
    return queued_tasks(redis_url) + int(client.hlen("unacked"))


@dataclass(frozen=True)
class Figures:
    span: float  # seconds from the first event processed to the last
    between_batches: float  # seconds of those spent between the processor's batches
    by_type: list[tuple[Any, ...]]
    paid: int
    enrolled: int


def _figures(database: str, course_id: int, batch: int | None) -> Figures:
    """Time the events from the database, setting apart the gaps between the processor's batches.

    The SQL below is built from constants and an integer only (nosec B608 on each).
    Woken once, the processor runs `batch` events a task; the worker runs the
    tasks the sales queued (receipts, notifications) before the next batch.
    """
    first, last = _query(
        database,
        f"SELECT min({SETTLED_AT}), max({SETTLED_AT}) FROM billing_stripeevent",  # nosec B608
    )[0]
    span = (last - first).total_seconds() if first and last else 0.0
    gaps = f"""
        SELECT type, status, last_error,
               extract(epoch FROM settled_at - lag(settled_at) OVER w) * 1000 AS gap,
               {f"mod(row_number() OVER w - 1, {batch}) = 0" if batch else "false"} AS new_batch
        FROM (SELECT *, {SETTLED_AT} AS settled_at FROM billing_stripeevent) events
        WHERE settled_at IS NOT NULL
        WINDOW w AS (ORDER BY settled_at)
    """  # nosec B608
    by_type = _query(
        database,
        f"""
        SELECT type, count(*), avg(gap), percentile_cont(0.5) WITHIN GROUP (ORDER BY gap),
               count(*) FILTER (WHERE status <> 'done'), max(last_error)
        FROM ({gaps}) gaps
        WHERE gap IS NOT NULL AND NOT new_batch GROUP BY type ORDER BY avg(gap) DESC
        """,  # nosec B608
    )
    between = _query(
        database,
        f"SELECT coalesce(sum(gap), 0) / 1000 FROM ({gaps}) gaps WHERE new_batch",  # nosec B608
    )[0][0]
    paid = _query(
        database,
        "SELECT count(*) FROM billing_purchase WHERE course_id = %s AND status = 'paid'",
        (course_id,),
    )[0][0]
    enrolled = _query(
        database,
        "SELECT count(*) FROM courses_enrollment WHERE course_id = %s AND status = 'active'",
        (course_id,),
    )[0][0]
    return Figures(span, float(between), by_type, int(paid), int(enrolled))


def measure(
    env: dict[str, str], *, events: int, sales: int, pool: str, enqueue: str = "wake"
) -> dict[str, Any]:
    """Seed and enqueue `events`, run one worker process through them and return the figures."""
    database, broker = env["DATABASE_URL"], env["REDIS_URL"]
    purge_queue(broker)
    child = ["--events", str(events), "--sales", str(sales), "--enqueue", enqueue]
    seeded = json.loads(
        subprocess.run(
            [PYTHON, "-m", "bench.webhook_worker", *child],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    queued = queued_tasks(broker)
    log_path = ROOT / "artifacts" / "bench" / f"webhooks-worker-{pool}.log"
    done = settled = 0
    drained_s: float | None = None
    with log_path.open("w") as log:
        started = time.monotonic()
        worker = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--loglevel=INFO",
                "--concurrency=1",
                f"--pool={pool}",
                "--hostname=bench-webhooks@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            progress_at, last_settled = time.monotonic(), -1
            while settled < events and time.monotonic() - progress_at < STALL_SECONDS:
                time.sleep(0.5)
                done, settled = _counts(database)
                if settled != last_settled:
                    progress_at, last_settled = time.monotonic(), settled
            all_done_s = time.monotonic() - started
            # Read now: a failed event is attempted again a minute later, which moves its times.
            batch = DRAIN_BATCH if enqueue == "wake" else None
            figures = _figures(database, seeded["course_id"], batch)
            # The receipts and notifications the sales queued wait behind the events.
            progress_at, left = time.monotonic(), _in_flight(broker)
            fewest = left
            while left and time.monotonic() - progress_at < STALL_SECONDS:
                time.sleep(0.5)
                left = _in_flight(broker)
                if left < fewest:  # retries put tasks back: only a new low is progress
                    progress_at, fewest = time.monotonic(), left
            if not left:
                drained_s = round(time.monotonic() - started, 1)
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=60)
    purge_queue(broker)
    span, between = figures.span, figures.between_batches

    return {
        "events": events,
        "done": done,
        "first_attempt_ended": settled,
        "events_per_s": round((settled - 1) / span, 1) if span else None,
        # The same, leaving out the time the worker spent between the processor's batches.
        "events_per_s_in_batches": round((settled - 1) / (span - between), 1)
        if span > between
        else None,
        "first_to_last_s": round(span, 2),
        "between_batches_s": round(between, 2),
        "from_worker_start_s": round(all_done_s, 1),
        "queue_empty_after_s": drained_s,
        "ms_per_event_by_type": {
            row[0]: {
                "events": row[1],
                "mean": round(float(row[2]), 2),
                "median": round(float(row[3]), 2),
                "failed": row[4],
                **({"error": row[5][:300]} if row[4] else {}),
            }
            for row in figures.by_type
        },
        "sales_recorded": {"purchases_paid": figures.paid, "enrolments_active": figures.enrolled},
        "mix": seeded["by_type"],
        "setup": {
            "worker": f"celery -A config worker --pool={pool} --concurrency=1 --loglevel=INFO",
            "enqueue": enqueue,
            "tasks_queued_before_start": queued,
            "enqueue_seconds": seeded["enqueue_seconds"],
            "mean_body_bytes": seeded["body_bytes"],
            "database": database.split("://")[0],
            "broker": "redis",
        },
    }


def print_summary(pool: str, worker: dict[str, Any]) -> None:
    print(
        f"one worker ({pool}): {worker['first_attempt_ended']} of {worker['events']} events "
        f"processed in {worker['first_to_last_s']} s = {worker['events_per_s']} events/s "
        f"({worker['from_worker_start_s']} s from its start; queue empty after "
        f"{worker['queue_empty_after_s']} s); {worker['done']} done"
    )
    if worker["between_batches_s"]:
        print(
            f"  of which {worker['between_batches_s']} s between the processor's batches "
            f"(the sales' receipts and notifications): "
            f"{worker['events_per_s_in_batches']} events/s in the batches"
        )
    for type_, s in worker["ms_per_event_by_type"].items():
        failed = f"  {s['failed']} FAILED: {s['error'][:120]}" if s["failed"] else ""
        print(
            f"  {type_:34}{s['events']:>7}{s['mean']:>9.2f} ms mean"
            f"{s['median']:>9.2f} median{failed}"
        )
    sales = worker["sales_recorded"]
    print(
        f"  sales recorded: {sales['purchases_paid']} paid, {sales['enrolments_active']} enrolled"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Seed and enqueue (run by bench/webhooks.py).")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--sales", type=int, default=1_000)
    parser.add_argument("--enqueue", choices=["wake", "each"], default="wake")
    args = parser.parse_args()
    print(json.dumps(seed_and_enqueue(args.events, args.sales, args.enqueue)))


if __name__ == "__main__":
    main()
