"""Factories for courses, items and enrolments.

Other areas may append a factory at the end of this file when they need one.
"""

from datetime import timedelta

import factory
from django.utils import timezone

from courses.models import Course, CourseItem, Enrollment, ItemKind, Visibility
from tests.base import StudentFactory, TeacherFactory


class CourseFactory(factory.django.DjangoModelFactory):
    """A public, free course starting in a week, taught by a new teacher."""

    class Meta:
        model = Course

    teacher = factory.SubFactory(TeacherFactory)
    title = factory.Sequence(lambda n: f"Course {n}")
    slug = factory.Sequence(lambda n: f"course-{n}")
    summary = "A course to learn something useful."
    description = "## What you will learn\n\nEverything about the subject."
    starts_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=7))
    ends_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=60))
    schedule = "Tuesdays 18:00 to 19:30"
    timezone = "Europe/London"
    visibility = Visibility.PUBLIC
    capacity = 20
    price_amount = 0
    currency = "EUR"
    organisation = factory.LazyAttribute(lambda c: c.teacher.organisation_name)
    published_at = factory.LazyAttribute(
        lambda c: timezone.now() if c.visibility != Visibility.DRAFT else None
    )

    class Params:
        draft = factory.Trait(visibility=Visibility.DRAFT)
        unlisted = factory.Trait(visibility=Visibility.UNLISTED)
        archived = factory.Trait(archived_at=factory.LazyFunction(timezone.now))
        paid = factory.Trait(price_amount=4900)


class CourseItemFactory(factory.django.DjangoModelFactory):
    """A published material; pick another kind with a trait, e.g. `session=True`.

    Traits: announcement, material, assignment, note (private), shared_note,
    session, file, link. Positions follow creation order.
    """

    class Meta:
        model = CourseItem

    course = factory.SubFactory(CourseFactory)
    kind = ItemKind.MATERIAL
    title = factory.Sequence(lambda n: f"Item {n}")
    body = "Some **text** for this item."
    position = factory.Sequence(lambda n: n)
    published = True
    published_at = factory.LazyAttribute(lambda i: timezone.now() if i.published else None)
    author = factory.LazyAttribute(lambda i: i.course.teacher)

    class Params:
        announcement = factory.Trait(kind=ItemKind.ANNOUNCEMENT)
        material = factory.Trait(kind=ItemKind.MATERIAL)
        assignment = factory.Trait(
            kind=ItemKind.ASSIGNMENT,
            due_at=factory.LazyFunction(lambda: timezone.now() + timedelta(days=7)),
            points=10,
        )
        note = factory.Trait(kind=ItemKind.NOTE, is_private=True)
        shared_note = factory.Trait(kind=ItemKind.NOTE, is_private=False)
        session = factory.Trait(
            kind=ItemKind.SESSION,
            starts_at=factory.LazyFunction(
                lambda: (timezone.now() + timedelta(days=3)).replace(
                    minute=0, second=0, microsecond=0
                )
            ),
            duration_minutes=90,
            meeting_url="https://meet.google.com/abc-defg-hij",
        )
        file = factory.Trait(kind=ItemKind.FILE)
        link = factory.Trait(kind=ItemKind.LINK, url="https://example.com/reading")


class EnrollmentFactory(factory.django.DjangoModelFactory):
    """An active enrolment of a new student."""

    class Meta:
        model = Enrollment

    course = factory.SubFactory(CourseFactory)
    student = factory.SubFactory(StudentFactory)
    status = Enrollment.Status.ACTIVE
