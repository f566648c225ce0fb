"""A live session's attendance sheet, filled from the room, and the teacher's mark winning."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import User
from courses.models import Attendance, AttendanceSource, Delivery, Enrollment
from courses.services import attendance
from courses.tests.factories import CourseFactory, CourseItemFactory
from tests.base import PASSWORD
from tests.browser.kit import Browsing, snap_light_and_dark, snap_on_a_phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_room_fills_the_sheet_and_the_teachers_mark_wins(
    watched_page: Page,
    browsing: Browsing,
    alice: User,
    bob: User,
    carol: User,
    dave: User,
    log_in: Callable[[Page, str, str, str], None],
) -> None:
    course = CourseFactory.create(teacher=alice, slug="painting")
    for student in (bob, carol, dave):
        Enrollment.objects.create(course=course, student=student)
    starts = timezone.now() - timedelta(hours=2)
    session = CourseItemFactory.create(
        course=course,
        session=True,
        delivery=Delivery.LIVE,
        title="Week 3: light and shade",
        starts_at=starts,
        duration_minutes=60,
    )
    in_the_room = {
        bob.pk: (starts + timedelta(minutes=1), 58 * 60),
        carol.pk: (starts + timedelta(minutes=25), 34 * 60),  # late
    }  # dave never came
    attendance.fill_from_live(session, in_the_room)
    page = watched_page
    log_in(page, alice.email, PASSWORD, "01-login")

    page.goto(browsing.url(f"/teach/courses/{course.slug}/sessions/{session.pk}/attendance/"))
    rows = page.get_by_role("row")
    bob_row = rows.filter(has_text=bob.email)
    expect(bob_row).to_contain_text("58 min")
    expect(bob_row).to_contain_text("From the live room")
    expect(bob_row.get_by_role("radio", name="Present")).to_be_checked()
    carol_row = rows.filter(has_text=carol.email)
    expect(carol_row.get_by_role("radio", name="Late")).to_be_checked()
    expect(rows.filter(has_text=dave.email).get_by_role("radio", name="Absent")).to_be_checked()
    snap_light_and_dark(page, browsing, "02-filled-from-the-room")

    carol_row.get_by_role("radio", name="Present").check()
    page.get_by_role("button", name="Save attendance").click()
    expect(rows.filter(has_text=carol.email)).to_contain_text("Marked by you")
    attendance.fill_from_live(session, in_the_room)  # the room's figures again, e.g. a late event
    page.reload()
    carol_row = page.get_by_role("row").filter(has_text=carol.email)
    expect(carol_row.get_by_role("radio", name="Present")).to_be_checked()
    expect(carol_row).to_contain_text("34 min")
    snap_on_a_phone(page, browsing, "03-teachers-mark-kept")

    mark = Attendance.objects.get(item=session, student=carol)
    assert (mark.status, mark.source) == ("present", AttendanceSource.TEACHER)
