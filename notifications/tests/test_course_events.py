"""Course events notify the right people: new items, returned grades, enrolments, the waitlist."""

from django.core import mail

from courses.models import Enrollment, ItemKind, WaitlistEntry
from courses.services import enrolment, items, work
from courses.tests.factories import CourseFactory, CourseItemFactory, EnrollmentFactory
from notifications.models import EmailState, Kind, Notification
from tests.base import LecternTestCase


def kinds_for(user) -> list[tuple[str, str]]:
    return list(
        Notification.objects.filter(recipient=user).order_by("id").values_list("kind", "title")
    )


class ItemPublishedTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, title="Watercolour")
        EnrollmentFactory.create(course=self.course, student=self.bob)
        self.left = EnrollmentFactory.create(course=self.course, status=Enrollment.Status.LEFT)

    def add(self, kind: str, published: bool = True):
        with self.captureOnCommitCallbacks(execute=True):
            return items.add_item(
                course=self.course,
                author=self.alice,
                kind=kind,
                fields={"title": "Week 2", "body": "Bring **brushes**.", "published": published},
            )

    def test_it_tells_enrolled_students_about_a_new_announcement(self) -> None:
        item = self.add(ItemKind.ANNOUNCEMENT)
        [notification] = Notification.objects.all()
        assert notification.recipient == self.bob
        assert notification.kind == Kind.ANNOUNCEMENT
        assert notification.title == "New announcement in Watercolour: Week 2"
        assert notification.body == "Bring brushes."
        assert notification.url == f"/courses/{self.course.slug}/items/{item.pk}/"
        assert notification.actor == self.alice
        assert [m.to for m in mail.outbox] == [["bob@example.com"]]

    def test_it_tells_them_about_a_new_assignment(self) -> None:
        self.add(ItemKind.ASSIGNMENT)
        assert kinds_for(self.bob) == [(Kind.ASSIGNMENT, "New assignment in Watercolour: Week 2")]

    def test_it_says_nothing_about_drafts_or_other_kinds(self) -> None:
        self.add(ItemKind.ANNOUNCEMENT, published=False)
        self.add(ItemKind.MATERIAL)
        assert Notification.objects.count() == 0

    def test_it_tells_them_when_a_draft_is_published_and_only_once(self) -> None:
        item = self.add(ItemKind.ANNOUNCEMENT, published=False)
        with self.captureOnCommitCallbacks(execute=True):
            items.set_item_published(item=item, published=True)
        with self.captureOnCommitCallbacks(execute=True):
            items.set_item_published(item=item, published=False)
        with self.captureOnCommitCallbacks(execute=True):
            items.update_item(item=item, fields={"published": True})
        assert Notification.objects.filter(recipient=self.bob).count() == 1
        assert len(mail.outbox) == 1

    def test_it_skips_students_who_muted_the_course(self) -> None:
        from notifications.services import mute_course

        mute_course(user=self.bob, course=self.course)
        self.add(ItemKind.ANNOUNCEMENT)
        assert Notification.objects.count() == 0


class GradeReturnedTests(LecternTestCase):
    def setUp(self) -> None:
        course = CourseFactory.create(teacher=self.alice)
        EnrollmentFactory.create(course=course, student=self.bob)
        self.item = CourseItemFactory.create(course=course, assignment=True, title="Still life")
        self.submission = work.submit_work(
            item=self.item, student=self.bob, text="Done", uploads=[]
        )

    def grade(self, returned: bool) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            work.grade_submission(
                submission=self.submission,
                grader=self.alice,
                points=8,
                feedback="Good",
                return_to_student=returned,
            )

    def test_it_tells_the_student_when_a_grade_is_returned(self) -> None:
        self.grade(returned=False)
        assert Notification.objects.count() == 0
        self.grade(returned=True)
        [notification] = Notification.objects.all()
        assert notification.recipient == self.bob
        assert notification.kind == Kind.GRADE_RETURNED
        assert notification.title == "Your grade for Still life is back"
        assert notification.body == "8 of 10 points."
        assert mail.outbox[-1].to == ["bob@example.com"]


class EnrolmentTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, title="Choir", capacity=1)

    def test_it_confirms_to_the_student_and_tells_the_teacher(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            enrolment.enroll_student(course=self.course, student=self.bob)
        assert kinds_for(self.bob) == [(Kind.ENROLMENT, "You're enrolled in Choir")]
        assert kinds_for(self.alice) == [(Kind.ENROLMENT, "Bob Baker enrolled in Choir")]
        assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.com", "bob@example.com"]

    def test_it_does_not_repeat_itself_when_enrolling_twice(self) -> None:
        for _ in range(2):
            with self.captureOnCommitCallbacks(execute=True):
                enrolment.enroll_student(course=self.course, student=self.bob)
        assert Notification.objects.count() == 2

    def test_it_shows_a_student_added_by_the_teacher_without_a_second_email(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            enrolment.add_student(course=self.course, email="bob@example.com")
        [notification] = Notification.objects.all()
        assert notification.recipient == self.bob
        assert notification.email_state == EmailState.NONE
        assert len(mail.outbox) == 1  # the course's own "you've been added" email

    def test_it_tells_a_student_promoted_from_the_waitlist(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            seat = enrolment.enroll_student(course=self.course, student=self.dave)
            enrolment.join_waitlist(course=self.course, student=self.bob)
        assert WaitlistEntry.objects.filter(student=self.bob).exists()
        Notification.objects.all().delete()
        mail.outbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            enrolment.leave_course(enrollment=seat)
        [notification] = Notification.objects.all()
        assert notification.recipient == self.bob
        assert notification.kind == Kind.WAITLIST_PROMOTION
        assert notification.email_state == EmailState.NONE
        assert [m.to for m in mail.outbox] == [["bob@example.com"]]  # the seat email, once
