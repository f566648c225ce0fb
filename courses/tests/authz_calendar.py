"""Authorization-matrix entries for the calendar, the ICS feed and attendance.

alice teaches "authz-calendar-course" with one session and one assignment; bob
is enrolled in it. alice owns a personal event and a calendar feed.
"""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from courses.models import CalendarFeed, Enrollment, PersonalEvent
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
    Expected,
    Outcome,
    everyone,
    signed_in,
)

SLUG = "authz-calendar-course"
TO_CALENDAR = Outcome(302, "courses:calendar")


def build(ctx: Context) -> None:
    alice, bob = ctx.people["alice"], ctx.people["bob"]
    course = CourseFactory.create(teacher=alice, slug=SLUG, title="Authz calendar course")
    Enrollment.objects.create(course=course, student=bob)
    starts = timezone.now() + timedelta(days=2)
    ctx.objects["calendar_course"] = course
    ctx.objects["calendar_session"] = CourseItemFactory.create(course=course, session=True)
    ctx.objects["calendar_assignment"] = CourseItemFactory.create(course=course, assignment=True)
    ctx.objects["calendar_event"] = PersonalEvent.objects.create(
        owner=alice, title="Dentist", starts_at=starts, ends_at=starts + timedelta(hours=1)
    )
    ctx.objects["calendar_feed"] = CalendarFeed.objects.create(owner=alice)


def _alice_only(owner: Expected = OK) -> dict[str, Expected]:
    """alice's course or event: for everyone else signed in, it does not exist."""
    return {ANON: TO_LOGIN, STUDENT: NOT_FOUND, OTHER: NOT_FOUND, OWNER: owner, STAFF: NOT_FOUND}


def _sheet_url(ctx: Context) -> str:
    return reverse("courses:attendance", args=[SLUG, ctx.objects["calendar_session"].pk])


_EVENT_DATA = {
    "title": "Office hours",
    "starts_at": "2026-11-05T18:00",
    "ends_at": "2026-11-05T19:00",
    "notes": "",
}

ENTRIES: dict[str, Entry] = {
    "courses:calendar": Entry(get=signed_in()),
    "courses:event_create": Entry(get=signed_in(), post=signed_in(TO_CALENDAR), data=_EVENT_DATA),
    "courses:event_edit": Entry(
        get=_alice_only(OK),
        post=_alice_only(TO_CALENDAR),
        data=_EVENT_DATA,
        url=lambda ctx: reverse("courses:event_edit", args=[ctx.objects["calendar_event"].pk]),
    ),
    "courses:event_delete": Entry(
        get=signed_in(NOT_ALLOWED),
        post=_alice_only(TO_CALENDAR),
        url=lambda ctx: reverse("courses:event_delete", args=[ctx.objects["calendar_event"].pk]),
    ),
    "courses:calendar_feed_settings": Entry(get=signed_in()),
    "courses:calendar_feed_regenerate": Entry(
        get=signed_in(NOT_ALLOWED),
        post=signed_in(Outcome(302, "courses:calendar_feed_settings")),
    ),
    # The address is the credential: whoever holds it gets the feed, signed in or not.
    "courses:calendar_feed": Entry(
        get=everyone(OK),
        url=lambda ctx: reverse("courses:calendar_feed", args=[ctx.objects["calendar_feed"].token]),
    ),
    "courses:attendance": Entry(
        get=_alice_only(),
        post=_alice_only(lambda ctx: Outcome(302, _sheet_url(ctx))),
        url=_sheet_url,
    ),
    "courses:attendance_overview": Entry(
        get=_alice_only(), url=lambda ctx: reverse("courses:attendance_overview", args=[SLUG])
    ),
    "courses:attendance_csv": Entry(
        get=_alice_only(), url=lambda ctx: reverse("courses:attendance_csv", args=[SLUG])
    ),
    # The teacher has no attendance of their own: they are sent to the overview.
    "courses:my_attendance": Entry(
        get={
            ANON: TO_LOGIN,
            STUDENT: OK,
            OTHER: NOT_FOUND,
            OWNER: Outcome(302, f"/teach/courses/{SLUG}/attendance/"),
            STAFF: NOT_FOUND,
        },
        url=lambda ctx: reverse("courses:my_attendance", args=[SLUG]),
    ),
}
