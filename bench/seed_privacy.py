"""Give one person a large account quickly: messages, submissions and uploaded files.

Used by `bench.privacy_export` and by the test that kills a worker mid-export.
Rows are inserted with bulk_create, files are written to the default storage.
"""

import os
import secrets
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from courses.models import Course, CourseItem, Enrollment, Submission
from courses.models.items import ItemKind
from files.models import StoredFile, random_key
from messaging.models import Conversation, Message, Participant

BATCH = 2000


@dataclass
class Seeded:
    course: Course
    conversation: Conversation
    messages: int
    submissions: int
    files: int
    file_bytes: int


def seed_account(
    user: Any,
    teacher: Any,
    *,
    messages: int,
    submissions: int,
    files: int,
    file_size: tuple[int, int] = (4 * 1024, 20 * 1024),
) -> Seeded:
    """Enrol `user` in a course of `teacher` and give them the rows and files asked for."""
    now = timezone.now()
    tag = secrets.token_hex(4)
    with transaction.atomic():
        course = Course.objects.create(
            teacher=teacher, title=f"Seeded course {tag}", slug=f"seeded-{tag}", published_at=now
        )
        Enrollment.objects.create(course=course, student=user)
        conversation = Conversation.objects.create(
            kind=Conversation.Kind.GROUP, course=course, title="Study group", created_by=user
        )
        Participant.objects.bulk_create(
            [
                Participant(conversation=conversation, user=user),
                Participant(conversation=conversation, user=teacher),
            ]
        )
        for start in range(0, messages, BATCH):
            Message.objects.bulk_create(
                Message(
                    conversation=conversation,
                    author=user,
                    body=f"Message {n}: notes about chapter {n % 40}, see you on Tuesday.",
                    body_html=f"<p>Message {n}: notes about chapter {n % 40}.</p>",
                )
                for n in range(start, min(start + BATCH, messages))
            )
        items = CourseItem.objects.bulk_create(
            CourseItem(
                course=course,
                kind=ItemKind.ASSIGNMENT,
                title=f"Assignment {n}",
                position=n,
                published=True,
                points=10,
            )
            for n in range(submissions)
        )
        for start in range(0, submissions, BATCH):
            Submission.objects.bulk_create(
                Submission(item=item, student=user, text=f"My answer to {item.title}.")
                for item in items[start : start + BATCH]
            )
    low, high = file_size
    total = 0
    rows = []
    for n in range(files):
        size = low + (n * 7919) % max(1, high - low + 1)
        key = random_key(None, f"notes-{n}.bin")  # type: ignore[arg-type]
        name = default_storage.save(key, ContentFile(os.urandom(size)))
        rows.append(
            StoredFile(
                course=course,
                uploaded_by=user,
                blob=name,
                original_name=f"notes {n}.bin",
                content_type="application/octet-stream",
                size=size,
            )
        )
        total += size
    StoredFile.objects.bulk_create(rows)
    return Seeded(course, conversation, messages, submissions, files, total)
