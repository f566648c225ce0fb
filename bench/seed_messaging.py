"""Create the benchmark's course channel and a signed-in student; print what wrk needs.

Idempotent. Prints one JSON line: the poll path, its current ETag and the
session cookie of a student enrolled in the course.
"""

import json
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

from importlib import import_module  # noqa: E402

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.db import transaction  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from courses.models import Course, Enrollment, Visibility  # noqa: E402
from messaging import services  # noqa: E402
from messaging.conditional import conversation_etag  # noqa: E402
from messaging.models import Conversation, Message  # noqa: E402
from privacy import documents  # noqa: E402
from privacy import services as privacy_services  # noqa: E402

SLUG = "bench-messaging"
MESSAGES = 1000


def _person(email: str, **fields: object) -> User:
    user, _ = User.objects.get_or_create(email=email, defaults=fields)
    privacy_services.record_acceptances(user=user, docs=documents.required_for(user))
    return user


@transaction.atomic
def seed() -> Conversation:
    teacher = _person("bench-msg-teacher@lectern.localhost", first_name="Bench", is_teacher=True)
    student = _person("bench-msg-student@lectern.localhost", first_name="Sam", is_student=True)
    course, _ = Course.objects.get_or_create(
        slug=SLUG,
        defaults={
            "teacher": teacher,
            "title": "Bench channel",
            "visibility": Visibility.PUBLIC,
            "published_at": timezone.now(),
        },
    )
    Enrollment.objects.get_or_create(course=course, student=student)
    channel = services.get_or_create_channel(course=course)
    if not Message.objects.filter(conversation=channel).exists():
        for n in range(MESSAGES):
            author = teacher if n % 3 else student
            services.post_message(
                conversation=channel, author=author, body=f"Message {n}", notify=False
            )
    channel.refresh_from_db()
    services.mark_read(conversation=channel, user=student, up_to=channel.last_message_id or 0)
    return channel


def session_cookie(user: User) -> str:
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


if __name__ == "__main__":
    channel = seed()
    student = User.objects.get(email="bench-msg-student@lectern.localhost")
    path = reverse("messaging:poll", args=[channel.pk])
    json.dump(
        {
            "poll": f"{path}?after={channel.last_message_id}&v={channel.version}",
            "etag": conversation_etag(channel.pk, channel.version, student),
            "cookie": session_cookie(student),
        },
        sys.stdout,
    )
