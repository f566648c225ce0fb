"""Raising a course's capacity lets waiting students in, in order."""

import pytest

from courses.models import Enrollment, WaitlistEntry
from courses.services import courses as course_services
from courses.services import enrolment
from courses.tests.factories import CourseFactory
from tests.base import StudentFactory


@pytest.mark.django_db
def test_it_lets_the_waitlist_in_when_the_capacity_goes_up() -> None:
    course = CourseFactory.create(capacity=1, visibility="public")
    first, second, third = StudentFactory.create_batch(3)
    enrolment.enroll_student(course=course, student=first)
    enrolment.join_waitlist(course=course, student=second)
    enrolment.join_waitlist(course=course, student=third)

    course_services.update_course(course=course, fields={"capacity": 2})

    active = set(
        Enrollment.objects.filter(course=course, status=Enrollment.Status.ACTIVE).values_list(
            "student_id", flat=True
        )
    )
    assert active == {first.pk, second.pk}
    assert list(
        WaitlistEntry.objects.filter(course=course).values_list("student_id", flat=True)
    ) == [third.pk]
