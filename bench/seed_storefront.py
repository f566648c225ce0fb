"""Create the benchmark courses: 40 items and 200 enrolled students each (idempotent).

A free course, and a paid one whose teacher can sell (a Stripe account with
charges and payouts on). Prints the free course's path, then the paid one's.
"""

import os
from datetime import timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from billing.models import ConnectAccount  # noqa: E402
from courses.models import Course, CourseItem, Enrollment, ItemKind, Visibility  # noqa: E402

SLUG = "bench-watercolour"
PAID_SLUG = "bench-watercolour-paid"
PAID_PRICE = 12000  # EUR 120.00


@transaction.atomic
def seed() -> str:
    teacher, _ = User.objects.get_or_create(
        email="bench-teacher@lectern.localhost",
        defaults={
            "first_name": "Bench",
            "last_name": "Teacher",
            "is_teacher": True,
            "handle": "bench-teacher",
            "organisation_name": "Bench Studio",
        },
    )
    course, created = Course.objects.get_or_create(
        slug=SLUG,
        defaults={
            "teacher": teacher,
            "title": "Watercolour Foundations",
            "summary": "Eight live evenings of washes, glazes and colour.",
            "description": "## What you will learn\n\n" + "Layering, colour mixing. " * 40,
            "schedule": "Tuesdays 18:00 to 19:30",
            "timezone": "Europe/Paris",
            "visibility": Visibility.PUBLIC,
            "capacity": 500,
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
                for i in range(40)
            ]
        )
        password = make_password(None)
        students = User.objects.bulk_create(
            [
                User(
                    email=f"bench-student-{i}@lectern.localhost",
                    first_name="Student",
                    last_name=str(i),
                    is_student=True,
                    password=password,
                )
                for i in range(200)
            ]
        )
        Enrollment.objects.bulk_create(
            [Enrollment(course=course, student=student) for student in students]
        )
    return course.get_absolute_url()


@transaction.atomic
def seed_paid() -> str:
    """The same course for a price, taught by a teacher whose Stripe account can take payments."""
    teacher, _ = User.objects.get_or_create(
        email="bench-seller@lectern.localhost",
        defaults={
            "first_name": "Bench",
            "last_name": "Seller",
            "is_teacher": True,
            "handle": "bench-seller",
            "organisation_name": "Bench Studio",
        },
    )
    ConnectAccount.objects.update_or_create(
        teacher=teacher,
        defaults={
            "stripe_account_id": "acct_bench_seller",
            "country": "FR",
            "default_currency": "EUR",
            "charges_enabled": True,
            "payouts_enabled": True,
            "details_submitted": True,
        },
    )
    free = Course.objects.get(slug=SLUG)
    course, created = Course.objects.get_or_create(
        slug=PAID_SLUG,
        defaults={
            "teacher": teacher,
            "title": "Watercolour Masterclass",
            "summary": free.summary,
            "description": free.description,
            "schedule": free.schedule,
            "timezone": free.timezone,
            "visibility": Visibility.PUBLIC,
            "capacity": free.capacity,
            "price_amount": PAID_PRICE,
            "currency": "EUR",
            "published_at": timezone.now(),
        },
    )
    if created:
        items = list(CourseItem.objects.filter(course=free).order_by("position"))
        for item in items:
            item.pk = None
            item.course = course
        CourseItem.objects.bulk_create(items)
        students = User.objects.filter(enrollments__course=free)
        Enrollment.objects.bulk_create(
            [Enrollment(course=course, student=student) for student in students]
        )
    return course.get_absolute_url()


if __name__ == "__main__":
    print(seed())
    print(seed_paid())
