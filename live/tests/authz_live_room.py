"""Authorization-matrix entries for the live class page.

alice teaches a course with a live session in bob's enrolment: both see the
page (with LiveKit not configured in the matrix, it says so); everyone else is
told the session doesn't exist.
"""

from django.urls import reverse

from courses.models import Delivery, Enrollment
from courses.tests.factories import CourseFactory, CourseItemFactory
from tests.authz import (
    ANON,
    NOT_ALLOWED,
    NOT_FOUND,
    OK,
    OTHER,
    OWNER,
    STAFF,
    STUDENT,
    TO_LOGIN,
    Context,
    Entry,
)


def build(ctx: Context) -> None:
    alice, bob = ctx.people["alice"], ctx.people["bob"]
    course = CourseFactory.create(teacher=alice)
    Enrollment.objects.create(course=course, student=bob)
    ctx.objects["live_room_session"] = CourseItemFactory.create(
        course=course, session=True, delivery=Delivery.LIVE
    )


ENTRIES: dict[str, Entry] = {
    "live:room": Entry(
        get={ANON: TO_LOGIN, STUDENT: OK, OTHER: NOT_FOUND, OWNER: OK, STAFF: NOT_FOUND},
        post={
            ANON: TO_LOGIN,
            STUDENT: NOT_ALLOWED,
            OTHER: NOT_ALLOWED,
            OWNER: NOT_ALLOWED,
            STAFF: NOT_ALLOWED,
        },
        url=lambda ctx: reverse("live:room", args=[ctx.objects["live_room_session"].pk]),
    ),
}
