"""Create the capacity benchmark's live evening and sign everyone in; write who is who.

    python -m bench.seed_capacity OUT.json [--courses 5] [--students 300] [--messages 200]

Idempotent: K courses, each with its teacher, `--students` enrolled students
and a channel holding at least `--messages` messages. Every person has
accepted the current policies (so nobody is sent to the re-accept page) and
has read their channel up to its last message, as someone who keeps it open
would have. Each run replaces the previous run's sessions with fresh ones,
made directly in the configured session store with the keys a sign-in puts
there, and writes them to OUT.json for the load generator. Users get an
unusable password: hashing 1,500 real ones would take most of a minute.
"""

import argparse
import json
import os
from datetime import timedelta
from importlib import import_module
from pathlib import Path
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

from allauth.usersessions.models import UserSession  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.sessions.backends import db as db_sessions  # noqa: E402
from django.contrib.sessions.backends.base import VALID_KEY_CHARS  # noqa: E402
from django.db import transaction  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.crypto import get_random_string  # noqa: E402

from accounts.models import User  # noqa: E402
from courses.models import Course, CourseItem, Enrollment, ItemKind, Visibility  # noqa: E402
from messaging import services  # noqa: E402
from messaging.models import Conversation, Message, Participant  # noqa: E402
from privacy import documents  # noqa: E402
from privacy import services as privacy_services  # noqa: E402

DOMAIN = "capacity.lectern.localhost"
ITEMS = 12
LINES = [
    "Does the second glaze go on while the first is still damp?",
    "Here is the reference photo from tonight's demonstration.",
    "Could you repeat the ratio for the **granulating** mix?",
    "Thanks, that makes sense now.",
    "I'll post my swatch after the break.",
]


def _teacher_email(course: int) -> str:
    return f"teacher-{course}@{DOMAIN}"


def _student_email(course: int, n: int) -> str:
    return f"student-{course}-{n}@{DOMAIN}"


def _people(emails: list[str], **fields: Any) -> list[User]:
    """Return the users with these emails, in order, creating the missing ones in one insert."""
    found = {u.email: u for u in User.objects.filter(email__in=emails)}
    password = make_password(None)
    missing = [e for e in emails if e not in found]
    User.objects.bulk_create(
        [
            User(email=e, first_name=e.split("@")[0].title(), password=password, **fields)
            for e in missing
        ]
    )
    if missing:
        found.update({u.email: u for u in User.objects.filter(email__in=missing)})
    return [found[e] for e in emails]


def _course(n: int, teacher: User) -> Course:
    course, created = Course.objects.get_or_create(
        slug=f"capacity-{n}",
        defaults={
            "teacher": teacher,
            "title": f"Live evening {n + 1}",
            "summary": "A live class with its channel open all evening.",
            "description": "## Tonight\n\n" + "Washes, glazes and colour mixing. " * 20,
            "visibility": Visibility.PUBLIC,
            "published_at": timezone.now(),
        },
    )
    if created:
        now = timezone.now()
        kinds = [ItemKind.SESSION, ItemKind.MATERIAL, ItemKind.ASSIGNMENT, ItemKind.ANNOUNCEMENT]
        CourseItem.objects.bulk_create(
            [
                CourseItem(
                    course=course,
                    kind=kinds[i % 4],
                    title=f"Week {i // 4 + 1}: part {i % 4 + 1}",
                    body="Notes for this part. " * 10,
                    position=i,
                    published=True,
                    published_at=now,
                    starts_at=now + timedelta(days=i) if kinds[i % 4] == ItemKind.SESSION else None,
                    duration_minutes=90 if kinds[i % 4] == ItemKind.SESSION else None,
                    due_at=now + timedelta(days=i) if kinds[i % 4] == ItemKind.ASSIGNMENT else None,
                    points=10 if kinds[i % 4] == ItemKind.ASSIGNMENT else None,
                )
                for i in range(ITEMS)
            ]
        )
    return course


def _channel(course: Course, teacher: User, students: list[User], messages: int) -> Conversation:
    """Return the course's channel with at least `messages` messages, read by everyone."""
    channel = services.get_or_create_channel(course=course)
    missing = messages - Message.objects.filter(conversation=channel).count()
    for n in range(max(missing, 0)):
        author = teacher if n % 4 == 0 else students[n % len(students)]
        services.post_message(
            conversation=channel, author=author, body=LINES[n % len(LINES)], notify=False
        )
    channel.refresh_from_db()
    last = channel.last_message_id or 0
    Participant.objects.bulk_create(
        [Participant(conversation=channel, user=u) for u in [teacher, *students]],
        ignore_conflicts=True,
    )
    Participant.objects.filter(conversation=channel, last_read_message_id__lt=last).update(
        last_read_message_id=last, last_read_at=timezone.now()
    )
    return channel


def _end_sessions(old: Path) -> None:
    """Delete the sessions the previous run handed out, so they don't pile up."""
    if not old.exists():
        return
    courses = json.loads(old.read_text())["courses"]
    keys = [k for c in courses for k in [c["teacher"], *c["students"]]]
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    if issubclass(store_class, db_sessions.SessionStore):
        store_class.get_model_class().objects.filter(session_key__in=keys).delete()
    UserSession.objects.filter(session_key__in=keys).delete()


def sign_in(users: list[User]) -> list[str]:
    """Return a new session key for each user, stored as a sign-in would store it.

    Database-backed stores get one bulk insert (the cached one fills its cache on
    first use); any other store makes them one by one.
    """
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    payloads = [
        {
            SESSION_KEY: str(u.pk),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: u.get_session_auth_hash(),
        }
        for u in users
    ]
    if not issubclass(store_class, db_sessions.SessionStore):
        keys = []
        for payload in payloads:
            store = store_class()
            store.update(payload)
            store.create()
            keys.append(store.session_key)
        return keys
    model = store_class.get_model_class()
    expires = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    encoder = store_class()
    keys = [get_random_string(32, VALID_KEY_CHARS) for _ in users]
    model.objects.bulk_create(
        [
            model(session_key=k, session_data=encoder.encode(p), expire_date=expires)
            for k, p in zip(keys, payloads, strict=True)
        ],
        batch_size=1000,
    )
    return keys


@transaction.atomic
def seed(out: Path, courses: int, students: int, messages: int) -> dict[str, Any]:
    """Create or complete the evening and return what the load generator needs."""
    _end_sessions(out)
    teachers = _people([_teacher_email(c) for c in range(courses)], is_teacher=True)
    plan = []
    everyone: list[User] = list(teachers)
    for c, teacher in enumerate(teachers):
        roster = _people([_student_email(c, n) for n in range(students)], is_student=True)
        course = _course(c, teacher)
        Enrollment.objects.bulk_create(
            [Enrollment(course=course, student=s) for s in roster], ignore_conflicts=True
        )
        channel = _channel(course, teacher, roster, messages)
        plan.append((course, channel, teacher, roster))
        everyone += roster
    for user in everyone:
        privacy_services.record_acceptances(user=user, docs=documents.required_for(user))
    keys = iter(sign_in(everyone))
    teacher_keys = {t.pk: next(keys) for t in teachers}
    courses_out = [
        {
            "slug": course.slug,
            "course_page": reverse("courses:course", args=[course.slug]),
            "conversation": reverse("messaging:conversation", args=[channel.pk]),
            "poll": reverse("messaging:poll", args=[channel.pk]),
            "post": reverse("messaging:post", args=[channel.pk]),
            "badge": reverse("messaging:unread"),
            "teacher": teacher_keys[teacher.pk],
            "students": [next(keys) for _ in roster],
        }
        for course, channel, teacher, roster in plan
    ]
    return {
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "csrf_cookie": settings.CSRF_COOKIE_NAME,
        "dashboard": reverse("dashboard"),
        "courses": courses_out,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path, help="where to write the people and their sessions")
    parser.add_argument("--courses", type=int, default=5)
    parser.add_argument("--students", type=int, default=300, help="students per course")
    parser.add_argument("--messages", type=int, default=200, help="history in each channel")
    args = parser.parse_args()
    result = seed(args.out, args.courses, args.students, args.messages)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
