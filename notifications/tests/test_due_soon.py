"""Due-soon reminders: once per assignment per student who hasn't submitted, within 24 hours."""

import datetime as dt

from django.utils import timezone

from courses.models import Enrollment
from courses.services import work
from courses.tests.factories import CourseFactory, CourseItemFactory, EnrollmentFactory
from notifications.models import Kind, Notification
from notifications.reminders import notify_due_soon
from notifications.tasks import notify_due_soon_task
from tests.base import LecternTestCase


class DueSoonTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice)
        EnrollmentFactory.create(course=self.course, student=self.bob)
        EnrollmentFactory.create(course=self.course, student=self.dave)
        self.item = CourseItemFactory.create(
            course=self.course,
            assignment=True,
            title="Still life",
            due_at=timezone.now() + dt.timedelta(hours=5),
        )

    def reminded(self) -> list[str]:
        return sorted(
            Notification.objects.filter(kind=Kind.DUE_SOON).values_list(
                "recipient__email", flat=True
            )
        )

    def test_it_reminds_students_who_have_not_submitted(self) -> None:
        work.submit_work(item=self.item, student=self.dave, text="Done", uploads=[])
        assert notify_due_soon() == 1
        assert self.reminded() == ["bob@example.com"]
        notification = Notification.objects.get(kind=Kind.DUE_SOON)
        assert notification.title == "Still life is due soon"
        assert notification.url == f"/courses/{self.course.slug}/items/{self.item.pk}/"

    def test_it_reminds_each_student_once(self) -> None:
        notify_due_soon_task.apply()
        notify_due_soon_task.apply()
        assert notify_due_soon(at=timezone.now() + dt.timedelta(hours=1)) == 0
        assert self.reminded() == ["bob@example.com", "dave@example.com"]

    def test_it_waits_until_the_last_day(self) -> None:
        self.item.due_at = timezone.now() + dt.timedelta(hours=30)
        self.item.save(update_fields=["due_at"])
        assert notify_due_soon() == 0
        assert notify_due_soon(at=timezone.now() + dt.timedelta(hours=7)) == 2

    def test_it_skips_past_deadlines_drafts_and_former_students(self) -> None:
        CourseItemFactory.create(
            course=self.course, assignment=True, due_at=timezone.now() - dt.timedelta(hours=1)
        )
        CourseItemFactory.create(
            course=self.course,
            assignment=True,
            published=False,
            due_at=timezone.now() + dt.timedelta(hours=2),
        )
        Enrollment.objects.filter(student=self.dave).update(status=Enrollment.Status.LEFT)
        assert notify_due_soon() == 1
        assert self.reminded() == ["bob@example.com"]
