"""Enrolling, capacity, the waitlist and leaving, through the enrolment service."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from courses.models import Enrollment, WaitlistEntry
from courses.services import enrolment
from courses.tests.factories import CourseFactory, EnrollmentFactory
from tests.base import LecternTestCase, StudentFactory


def active(course) -> list[str]:
    return sorted(
        course.enrollments.filter(status=Enrollment.Status.ACTIVE).values_list(
            "student__email", flat=True
        )
    )


class EnrollStudentTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, capacity=2)

    def test_it_enrols_a_student_in_a_free_course(self) -> None:
        enrollment = enrolment.enroll_student(course=self.course, student=self.bob)
        assert enrollment.status == Enrollment.Status.ACTIVE
        assert active(self.course) == ["bob@example.com"]

    def test_it_is_harmless_to_enrol_twice(self) -> None:
        first = enrolment.enroll_student(course=self.course, student=self.bob)
        second = enrolment.enroll_student(course=self.course, student=self.bob)
        assert first.pk == second.pk
        assert Enrollment.objects.count() == 1

    def test_it_refuses_a_paid_course(self) -> None:
        paid = CourseFactory.create(teacher=self.alice, paid=True)
        with self.assertRaisesMessage(enrolment.EnrolmentClosedError, "open for enrolment yet"):
            enrolment.enroll_student(course=paid, student=self.bob)
        assert not Enrollment.objects.exists()

    def test_it_refuses_a_draft(self) -> None:
        draft = CourseFactory.create(teacher=self.alice, draft=True)
        with pytest.raises(enrolment.EnrolmentClosedError):
            enrolment.enroll_student(course=draft, student=self.bob)
        assert not Enrollment.objects.exists()

    def test_it_refuses_an_archived_course(self) -> None:
        archived = CourseFactory.create(teacher=self.alice, archived=True)
        with self.assertRaisesMessage(enrolment.EnrolmentClosedError, "has ended"):
            enrolment.enroll_student(course=archived, student=self.bob)

    def test_it_refuses_the_course_own_teacher(self) -> None:
        with pytest.raises(enrolment.OwnCourseError):
            enrolment.enroll_student(course=self.course, student=self.alice)
        assert not Enrollment.objects.exists()

    def test_it_enrols_into_an_unlisted_course(self) -> None:
        unlisted = CourseFactory.create(teacher=self.alice, unlisted=True)
        enrolment.enroll_student(course=unlisted, student=self.bob)
        assert active(unlisted) == ["bob@example.com"]

    def test_it_refuses_a_seat_beyond_capacity(self) -> None:
        enrolment.enroll_student(course=self.course, student=self.bob)
        enrolment.enroll_student(course=self.course, student=self.dave)
        with pytest.raises(enrolment.CourseFullError):
            enrolment.enroll_student(course=self.course, student=self.carol)
        assert active(self.course) == ["bob@example.com", "dave@example.com"]

    def test_it_takes_no_limit_from_an_empty_capacity(self) -> None:
        open_course = CourseFactory.create(teacher=self.alice, capacity=None)
        for student in StudentFactory.create_batch(5):
            enrolment.enroll_student(course=open_course, student=student)
        assert len(active(open_course)) == 5

    def test_it_counts_only_active_enrolments_against_capacity(self) -> None:
        EnrollmentFactory.create(course=self.course, status=Enrollment.Status.LEFT)
        EnrollmentFactory.create(course=self.course, status=Enrollment.Status.REMOVED)
        enrolment.enroll_student(course=self.course, student=self.bob)
        enrolment.enroll_student(course=self.course, student=self.dave)
        assert len(active(self.course)) == 2


class LeaveAndReturnTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, capacity=1)

    def test_it_leaves_and_reactivates_the_same_row_on_return(self) -> None:
        enrollment = enrolment.enroll_student(course=self.course, student=self.bob)
        enrollment.enrolled_at = timezone.now() - timedelta(days=30)
        enrollment.save(update_fields=["enrolled_at"])
        enrolment.leave_course(enrollment=enrollment)
        enrollment.refresh_from_db()
        assert enrollment.status == Enrollment.Status.LEFT
        assert enrollment.ended_at is not None

        again = enrolment.enroll_student(course=self.course, student=self.bob)
        assert again.pk == enrollment.pk
        assert again.status == Enrollment.Status.ACTIVE
        assert again.ended_at is None
        assert again.enrolled_at > timezone.now() - timedelta(minutes=1)

    def test_it_frees_the_seat_for_someone_else(self) -> None:
        enrollment = enrolment.enroll_student(course=self.course, student=self.bob)
        enrolment.leave_course(enrollment=enrollment)
        enrolment.enroll_student(course=self.course, student=self.dave)
        assert active(self.course) == ["dave@example.com"]

    def test_it_keeps_a_removed_student_from_enrolling_again_by_themselves(self) -> None:
        enrolment.enroll_student(course=self.course, student=self.bob)
        assert enrolment.remove_student(course=self.course, student=self.bob)
        with self.assertRaisesMessage(enrolment.EnrolmentClosedError, "removed you"):
            enrolment.enroll_student(course=self.course, student=self.bob)
        with pytest.raises(enrolment.EnrolmentClosedError):
            enrolment.join_waitlist(course=self.course, student=self.bob)

    def test_it_lets_the_teacher_add_a_removed_student_back(self) -> None:
        enrolment.enroll_student(course=self.course, student=self.bob)
        enrolment.remove_student(course=self.course, student=self.bob)
        result = enrolment.add_student(course=self.course, email="bob@example.com")
        assert result.enrollment is not None
        assert result.enrollment.status == Enrollment.Status.ACTIVE


class WaitlistTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, capacity=1)
        self.seat = enrolment.enroll_student(course=self.course, student=self.bob)
        self.first, self.second, self.third = StudentFactory.create_batch(3)

    def line_up(self) -> None:
        for student in (self.first, self.second, self.third):
            result = enrolment.join_waitlist(course=self.course, student=student)
            assert isinstance(result, WaitlistEntry)
        mail.outbox.clear()

    def waiting(self) -> list[str]:
        return list(
            WaitlistEntry.objects.filter(course=self.course).values_list(
                "student__email", flat=True
            )
        )

    def test_it_enrols_instead_when_a_seat_is_free(self) -> None:
        roomy = CourseFactory.create(teacher=self.alice, capacity=3)
        result = enrolment.join_waitlist(course=roomy, student=self.dave)
        assert isinstance(result, Enrollment)
        assert not WaitlistEntry.objects.filter(course=roomy).exists()

    def test_it_joins_once_and_leaves(self) -> None:
        enrolment.join_waitlist(course=self.course, student=self.dave)
        enrolment.join_waitlist(course=self.course, student=self.dave)
        assert self.waiting() == ["dave@example.com"]
        assert enrolment.leave_waitlist(course=self.course, student=self.dave)
        assert not enrolment.leave_waitlist(course=self.course, student=self.dave)
        assert self.waiting() == []

    def test_it_promotes_the_earliest_when_a_student_leaves(self) -> None:
        self.line_up()
        with self.captureOnCommitCallbacks(execute=True):
            promoted = enrolment.leave_course(enrollment=self.seat)
        assert [e.student for e in promoted] == [self.first]
        assert active(self.course) == [self.first.email]
        assert self.waiting() == [self.second.email, self.third.email]
        assert len(mail.outbox) == 1
        assert mail.outbox[0].to == [self.first.email]
        assert "A seat is yours" in mail.outbox[0].subject
        assert f"/courses/{self.course.slug}/" in mail.outbox[0].body

    def test_it_promotes_the_earliest_when_the_teacher_removes_someone(self) -> None:
        self.line_up()
        with self.captureOnCommitCallbacks(execute=True):
            enrolment.remove_student(course=self.course, student=self.bob)
        assert active(self.course) == [self.first.email]

    def test_it_promotes_in_order_when_capacity_is_raised(self) -> None:
        self.line_up()
        self.course.capacity = 3
        self.course.save(update_fields=["capacity"])
        with self.captureOnCommitCallbacks(execute=True):
            promoted = enrolment.promote_waitlist(course=self.course)
        assert [e.student for e in promoted] == [self.first, self.second]
        assert self.waiting() == [self.third.email]
        assert sorted(m.to[0] for m in mail.outbox) == [self.first.email, self.second.email]

    def test_it_promotes_everyone_when_capacity_is_removed(self) -> None:
        self.line_up()
        self.course.capacity = None
        self.course.save(update_fields=["capacity"])
        enrolment.promote_waitlist(course=self.course)
        assert self.waiting() == []
        assert len(active(self.course)) == 4

    def test_it_orders_by_joining_time_not_by_row_id(self) -> None:
        self.line_up()
        WaitlistEntry.objects.filter(student=self.third).update(
            joined_at=timezone.now() - timedelta(days=1)
        )
        promoted = enrolment.leave_course(enrollment=self.seat)
        assert [e.student for e in promoted] == [self.third]

    def test_it_sends_no_email_when_the_transaction_rolls_back(self) -> None:
        self.line_up()
        with self.captureOnCommitCallbacks(execute=False) as callbacks:
            enrolment.leave_course(enrollment=self.seat)
        # The seat email, and each app's subscriber to the promotion (notifications, messaging).
        assert len(callbacks) == 3
        assert mail.outbox == []

    def test_it_does_not_promote_into_an_archived_course(self) -> None:
        self.line_up()
        self.course.archived_at = timezone.now()
        self.course.save(update_fields=["archived_at"])
        assert enrolment.leave_course(enrollment=self.seat) == []
        assert len(self.waiting()) == 3

    def test_it_refuses_the_waitlist_of_a_paid_course(self) -> None:
        paid = CourseFactory.create(teacher=self.alice, paid=True, capacity=1)
        with pytest.raises(enrolment.EnrolmentClosedError):
            enrolment.join_waitlist(course=paid, student=self.dave)
