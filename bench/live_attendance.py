"""A live session's attendance from its events: 500 participants, 20,000 events, on PostgreSQL.

    .venv/bin/python -m bench.live_attendance [--participants 500] [--events 20000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/lectern_bench_live .venv/bin/python -m ...

Seeds a 90-minute session of a course with `--participants` enrolled students
(reused between runs) and stores the room's LiveKit events as the webhook
endpoint stores them: each student connects `events / participants / 2`
times (reconnects, one in five overlapping the previous connection, as a
second tab does), one student in ten loses their last `participant_left`,
and the teacher is there throughout. Then times `live.webhooks.apply` of the
room's `room_finished`, which rebuilds every interval and participation of
the room set-wise and fills the attendance sheet:

- cold: nothing built yet (every interval and participation is written: the
  worst case, e.g. a backlog of events processed after the finish);
- again: the same finish applied once more, everything already in place (the
  recomputation a redelivered or second finish causes);
- one event: a single `participant_left` in the full room, as during class.

Each is also run at a tenth of the participants, to show that the number of
statements doesn't grow with the room (the target: the same count). Results go
to artifacts/bench/live_attendance.json.
"""

import argparse
import json
import os
import random
import secrets
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EMAIL_PREFIX = "live-bench"
SESSION_SECONDS = 90 * 60


@dataclass
class Timing:
    seconds: float
    queries: int


@dataclass
class Result:
    participants: int
    events: int
    intervals: int
    cold: Timing
    again: Timing
    one_event: Timing
    attendance_rows: int


def students(count: int) -> list[Any]:
    """Return `count` bench students, creating the ones missing (no password hashing)."""
    from accounts.models import User

    emails = [f"{EMAIL_PREFIX}-{n}@example.com" for n in range(count)]
    User.objects.bulk_create(
        [User(email=email, password="!", is_student=True) for email in emails],
        ignore_conflicts=True,
    )
    by_email = {u.email: u for u in User.objects.filter(email__in=emails)}
    return [by_email[email] for email in emails]


def seed_session(participants: int, starts_at: datetime) -> Any:
    """Return a fresh live session's room: a bench teacher's course with `participants` enrolled."""
    from accounts.models import User
    from courses.models import Course, CourseItem, Delivery, Enrollment, ItemKind
    from live import services

    teacher, _ = User.objects.get_or_create(
        email=f"{EMAIL_PREFIX}-teacher@example.com",
        defaults={"password": "!", "is_teacher": True},
    )
    tag = secrets.token_hex(4)
    course = Course.objects.create(teacher=teacher, title=f"Live bench {tag}", slug=f"live-{tag}")
    item = CourseItem.objects.create(
        course=course,
        kind=ItemKind.SESSION,
        title="Live session",
        starts_at=starts_at,
        duration_minutes=SESSION_SECONDS // 60,
        delivery=Delivery.LIVE,
        published=True,
    )
    Enrollment.objects.bulk_create(
        [Enrollment(course=course, student=student) for student in students(participants)]
    )
    return services.ensure_room(item=item)


def event_rows(
    room: Any,
    teacher: Any,
    people: list[Any],
    per_person: int,
    starts_at: datetime,
    rng: random.Random,
) -> list[Any]:
    """Return the room's stored events: everyone's joins and leaves, a start and a finish."""
    from live import services, webhooks
    from live.models import LiveKitEvent

    def row(kind: str, at: float, identity: str = "", sid: str = "") -> LiveKitEvent:
        return LiveKitEvent(
            event_id=f"EV_{secrets.token_hex(8)}",
            type=kind,
            room_name=room.name,
            identity=identity,
            participant_sid=sid,
            created_at=starts_at + timedelta(seconds=round(at)),
            payload={},
            status=LiveKitEvent.Status.DONE,
        )

    rows = [row(webhooks.STARTED, -600)]
    # The teacher opens the room and stays until it finishes.
    rows.append(row(webhooks.JOINED, -300, services.identity_for(teacher), "PA_teacher"))
    connections = max(1, per_person // 2)
    slot = SESSION_SECONDS / connections
    for n, person in enumerate(people):
        identity = services.identity_for(person)
        for k in range(connections):
            sid = f"PA_{n}_{k}"
            joined = k * slot + rng.uniform(0, slot / 10) - (slot / 2 if k and k % 5 == 0 else 0)
            left = (k + 1) * slot - rng.uniform(1, slot / 10)
            rows.append(row(webhooks.JOINED, joined, identity, sid))
            if not (n % 10 == 0 and k == connections - 1):  # one in ten loses their last leave
                rows.append(row(webhooks.LEFT, left, identity, sid))
    rows.append(row(webhooks.FINISHED, SESSION_SECONDS + 120))
    return rows


def _timed(run: Any) -> Timing:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        run()
        elapsed = time.perf_counter() - start
    return Timing(round(elapsed, 4), len(queries.captured_queries))


def measure(participants: int, events: int, *, seed: int = 0, cleanup: bool = True) -> Result:
    """Seed a session of `participants` with about `events` events and time its finish."""
    from courses.models import Attendance
    from live import webhooks
    from live.models import LiveKitEvent, ParticipantInterval

    rng = random.Random(seed)
    starts_at = datetime(2030, 1, 7, 9, tzinfo=UTC) + timedelta(minutes=rng.randrange(10_000))
    room = seed_session(participants, starts_at)
    item = room.item
    people = [e.student for e in item.course.enrollments.select_related("student")]
    per_person = max(2, events // max(1, participants))
    rows = event_rows(room, item.course.teacher, people, per_person, starts_at, rng)
    LiveKitEvent.objects.bulk_create(rows, batch_size=5000)
    finished = LiveKitEvent.objects.get(room_name=room.name, type=webhooks.FINISHED)
    cold = _timed(lambda: webhooks.apply(finished))
    again = _timed(lambda: webhooks.apply(finished))
    last_left = (
        LiveKitEvent.objects.filter(room_name=room.name, type=webhooks.LEFT)
        .order_by("-created_at")
        .first()
    )
    assert last_left is not None
    one_event = _timed(lambda: webhooks.apply(last_left))
    result = Result(
        participants=participants,
        events=len(rows),
        intervals=ParticipantInterval.objects.filter(room=room).count(),
        cold=cold,
        again=again,
        one_event=one_event,
        attendance_rows=Attendance.objects.filter(item=item).count(),
    )
    if cleanup:
        LiveKitEvent.objects.filter(room_name=room.name).delete()
        item.course.delete()
    return result


def _print(result: Result) -> None:
    print(
        f"{result.participants:>5} participants, {result.events:>6} events, "
        f"{result.intervals:>6} intervals, {result.attendance_rows} attendance rows"
    )
    for name in ("cold", "again", "one_event"):
        timing: Timing = getattr(result, name)
        print(f"      {name:10} {timing.seconds * 1000:>9.1f} ms {timing.queries:>4} queries")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--participants", type=int, default=500)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3, help="runs at each size; best reported")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/lectern_bench_live")
    if not url.startswith("postgres"):
        raise SystemExit("PostgreSQL only: set DATABASE_URL=postgres://…")
    os.environ["DATABASE_URL"] = url
    from bench.postgres import setup_django

    setup_django(url)
    from config.celery import app

    # A finish with something left open would queue reconciliation: nobody reads this broker.
    app.conf.update(task_always_eager=False, broker_url="memory://")

    report: dict[str, Any] = {}
    sizes = [max(1, args.participants // 10), args.participants]
    for participants in sizes:
        events = args.events * participants // args.participants
        runs = [measure(participants, events, seed=k) for k in range(args.rounds)]
        best = min(runs, key=lambda r: r.cold.seconds)
        _print(best)
        report[str(participants)] = [asdict(r) for r in runs]
    small, large = (report[str(size)][0] for size in sizes)
    constant = all(
        small[k]["queries"] == large[k]["queries"] for k in ("cold", "again", "one_event")
    )
    print(
        "statements "
        + ("the same" if constant else "DIFFERENT")
        + f" at {sizes[0]} and {sizes[1]} participants"
    )
    out = ROOT / "artifacts" / "bench" / "live_attendance.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    if not constant:
        raise SystemExit("the number of statements grows with the room")


if __name__ == "__main__":
    main()
