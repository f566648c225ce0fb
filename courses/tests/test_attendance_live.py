"""A live session's sheet: filled from the room, and the teacher's marks winning over it."""

from datetime import timedelta

from django.urls import reverse

from courses.models import Attendance, AttendanceSource, Delivery, Enrollment
from courses.services import attendance as services
from courses.tests.factories import CourseFactory, CourseItemFactory
from tests.base import LecternTestCase, StudentFactory


class LiveSheetTests(LecternTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.course = CourseFactory.create(
            teacher=self.alice, late_after_minutes=5, present_min_percent=60
        )
        self.session = CourseItemFactory.create(
            course=self.course, session=True, delivery=Delivery.LIVE
        )
        self.erin = StudentFactory.create(first_name="Erin", last_name="Evans")
        for student in (self.bob, self.erin):
            Enrollment.objects.create(course=self.course, student=student)
        self.url = reverse("courses:attendance", args=[self.course.slug, self.session.pk])
        start = self.session.starts_at
        services.fill_from_live(
            self.session,
            {self.bob.pk: (start, 88 * 60), self.erin.pk: (start + timedelta(minutes=30), 40 * 60)},
        )

    def marks(self) -> dict[int, tuple]:
        return {
            row[0]: row[1:]
            for row in Attendance.objects.values_list("student_id", "status", "source", "marked_by")
        }

    def test_it_shows_each_students_minutes_and_that_the_status_is_automatic(self) -> None:
        self.login(self.alice)
        response = self.client.get(self.url)

        self.assertContains(response, "Live room")
        self.assertContains(response, "88 min")
        self.assertContains(response, "40 min")
        self.assertContains(response, "From the live room", count=2)
        self.assertContains(response, "filled automatically")
        text = " ".join(response.content.decode().split())
        assert "Less than 60% of the session counts as absent" in text
        assert "a first join more than 5 minutes after the start as late" in text
        self.assertNotContains(response, "Marked by you")

    def test_a_teachers_change_is_theirs_and_says_so(self) -> None:
        self.login(self.alice)
        self.client.post(self.url, {f"s{self.bob.pk}": "present", f"s{self.erin.pk}": "late"})

        assert self.marks() == {
            self.bob.pk: ("present", AttendanceSource.LIVE, None),  # unchanged: still the room's
            self.erin.pk: ("late", AttendanceSource.TEACHER, self.alice.pk),
        }
        response = self.client.get(self.url)
        self.assertContains(response, "Marked by you", count=1)
        self.assertContains(response, "From the live room", count=1)
        self.assertContains(response, "40 min")  # the override still shows the time in the room

    def test_filling_again_keeps_the_teachers_marks(self) -> None:
        services.record_attendance(
            item=self.session, marked_by=self.alice, statuses={self.erin.pk: "present"}
        )
        start = self.session.starts_at

        services.fill_from_live(
            self.session, {self.bob.pk: (start, 10 * 60), self.erin.pk: (start, 50 * 60)}
        )

        assert self.marks() == {
            self.bob.pk: ("absent", AttendanceSource.LIVE, None),
            self.erin.pk: ("present", AttendanceSource.TEACHER, self.alice.pk),
        }
        assert Attendance.objects.get(student=self.erin).live_minutes == 50

    def test_a_session_elsewhere_has_no_live_column(self) -> None:
        other = CourseItemFactory.create(course=self.course, session=True)
        self.login(self.alice)
        response = self.client.get(reverse("courses:attendance", args=[self.course.slug, other.pk]))
        self.assertNotContains(response, "Live room")
        self.assertNotContains(response, "From the live room")
