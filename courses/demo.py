"""Demo courses for `manage.py seed_demo`: a free course with content and a paid one."""

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from accounts import demo as account_demo
from accounts.models import User
from courses.models import Course, Delivery, Enrollment, ItemKind, LatePolicy, Visibility
from courses.services import courses as course_services
from courses.services import enrolment, items

FREE_SLUG = "watercolour-foundations"
PAID_SLUG = "portrait-masterclass"
_PARIS = ZoneInfo("Europe/Paris")

_DESCRIPTION = """Eight live evenings to go from muddy puddles to luminous washes.

## What you'll learn
- Flat, graded and variegated washes
- Mixing a reliable palette from three primaries
- Glazing without lifting what's underneath

## Who it's for
Beginners and returning painters. Bring a pad of 300 gsm paper, two round brushes
and any student-grade paints.
"""


def _next_tuesday_evening() -> datetime:
    today = timezone.now().astimezone(_PARIS).date()
    days = (1 - today.weekday()) % 7 or 7
    return datetime.combine(today + timedelta(days=days), time(18, 0), tzinfo=_PARIS)


@transaction.atomic
def seed_demo_courses(*, teacher: User, student: User) -> list[Course]:
    """Create the demo courses once; running again changes nothing."""
    created = []
    if not Course.objects.filter(slug=FREE_SLUG).exists():
        created.append(_free_course(teacher, student))
    if not Course.objects.filter(slug=PAID_SLUG).exists():
        created.append(
            course_services.create_course(
                teacher=teacher,
                fields={
                    "title": "Portrait Masterclass",
                    "slug": PAID_SLUG,
                    "summary": "Six weeks of faces in watercolour, with weekly feedback.",
                    "description": "Proportions, skin tones and soft edges, one sitter a week.",
                    "schedule": "Thursdays 19:00 to 21:00",
                    "timezone": "Europe/Paris",
                    "visibility": Visibility.PUBLIC,
                    "capacity": 12,
                    "price_amount": 14900,
                    "currency": "EUR",
                    "organisation": teacher.organisation_name,
                },
            )
        )
    return created


def _free_course(teacher: User, student: User) -> Course:
    first_class = _next_tuesday_evening()
    course = course_services.create_course(
        teacher=teacher,
        fields={
            "title": "Watercolour Foundations",
            "slug": FREE_SLUG,
            "summary": "Eight live evenings of washes, glazes and colour — free.",
            "description": _DESCRIPTION,
            "starts_on": first_class.date(),
            "ends_on": (first_class + timedelta(weeks=7)).date(),
            "schedule": "Tuesdays 18:00 to 19:30",
            "timezone": "Europe/Paris",
            "visibility": Visibility.PUBLIC,
            "capacity": 24,
            "organisation": teacher.organisation_name,
        },
    )
    content: list[tuple[str, str, dict[str, Any]]] = [
        (ItemKind.ANNOUNCEMENT, "Welcome!", {"body": "So glad you're here. Say hi in class."}),
        (
            ItemKind.MATERIAL,
            "What to bring",
            {
                "body": "- 300 gsm cold-pressed paper\n"
                "- Round brushes, sizes 6 and 10\n"
                "- Three primaries"
            },
        ),
        (
            ItemKind.SESSION,
            "Week 1 — Washes",
            {
                "starts_at": first_class,
                "duration_minutes": 90,
                "meeting_url": "https://meet.google.com/abc-defg-hij",
            },
        ),
        (
            ItemKind.ASSIGNMENT,
            "Colour wheel study",
            {
                "body": "Paint a 12-step colour wheel from three primaries, "
                "then photograph it and upload the picture.",
                "due_at": first_class + timedelta(days=6, hours=5),
                "points": 10,
                "late_policy": LatePolicy.ACCEPT,
            },
        ),
        (
            ItemKind.SESSION,
            "Week 2 — Glazing",
            # Live on Lectern: without a LiveKit server its page says live classes aren't set up.
            {
                "starts_at": first_class + timedelta(weeks=1),
                "duration_minutes": 90,
                "delivery": Delivery.LIVE,
            },
        ),
        (ItemKind.LINK, "Pigment database", {"url": "https://www.handprint.com/HP/WCL/water.html"}),
        (ItemKind.NOTE, "Remember to bring spare paper", {"is_private": True}),
    ]
    for kind, title, fields in content:
        items.add_item(
            course=course,
            author=teacher,
            kind=kind,
            fields={"title": title, "published": kind != ItemKind.NOTE, **fields},
        )
    if not Enrollment.objects.filter(course=course, student=student).exists():
        enrolment.enroll_student(course=course, student=student)
    return course


def seed() -> list[str]:
    """Seed the demo courses for the demo teacher and student; name the ones created."""
    teacher, student = account_demo.teacher_and_student()
    return [
        f"Demo course: {course.title} at {course.get_absolute_url()}"
        for course in seed_demo_courses(teacher=teacher, student=student)
    ]
