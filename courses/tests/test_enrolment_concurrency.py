"""Capacity under concurrency: students racing for the last seats, each on their own connection.

On PostgreSQL the enrolments really run side by side and meet at the course
row's lock. SQLite serialises writers, so there the test checks that the
lock neither deadlocks nor fails, and that the invariant holds just the same.
"""

import threading
from collections.abc import Callable

import pytest
from django.db import connection, transaction

from accounts.models import User
from core.testing import requires_postgres
from courses.models import Course, Enrollment
from courses.services import enrolment, holds
from courses.tests.factories import CourseFactory
from tests.base import StudentFactory, TeacherFactory


def race(
    course: Course, students: list[User], take: Callable[..., object] | None = None
) -> list[str]:
    """Enrol every student at once, one thread and connection each; return each outcome.

    `take(course, student)` picks how each one takes a seat (default: enrol).
    """
    barrier = threading.Barrier(len(students))
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(student: User) -> None:
        try:
            barrier.wait(timeout=10)
            if take is None:
                enrolment.enroll_student(course=course, student=student)
            else:
                take(course, student)
            outcome = "enrolled"
        except enrolment.CourseFullError:
            outcome = "full"
        except Exception as error:  # reported by the assertions below, not swallowed
            outcome = f"error: {error!r}"
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=attempt, args=(student,)) for student in students]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "an enrolment never finished"
    return sorted(outcomes)


def active_count(course: Course) -> int:
    return Enrollment.objects.filter(course=course, status=Enrollment.Status.ACTIVE).count()


@pytest.mark.django_db(transaction=True)
def test_it_gives_the_last_seat_to_exactly_one_of_two_students() -> None:
    course = CourseFactory.create(teacher=TeacherFactory.create(), capacity=2)
    enrolment.enroll_student(course=course, student=StudentFactory.create())
    outcomes = race(course, StudentFactory.create_batch(2))
    assert outcomes == ["enrolled", "full"], outcomes
    assert active_count(course) == 2


@pytest.mark.django_db(transaction=True)
def test_it_never_fills_more_seats_than_the_capacity() -> None:
    course = CourseFactory.create(teacher=TeacherFactory.create(), capacity=3)
    outcomes = race(course, StudentFactory.create_batch(8))
    assert outcomes == ["enrolled"] * 3 + ["full"] * 5, outcomes
    assert active_count(course) == 3


@pytest.mark.django_db(transaction=True)
def test_it_enrols_a_student_once_when_they_click_twice_at_once() -> None:
    course = CourseFactory.create(teacher=TeacherFactory.create(), capacity=5)
    student = StudentFactory.create()
    outcomes = race(course, [student, student])
    assert outcomes == ["enrolled", "enrolled"], outcomes
    assert Enrollment.objects.filter(course=course, student=student).count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_counts_held_seats_when_holds_and_enrolments_race_for_the_last_seats() -> None:
    course = CourseFactory.create(teacher=TeacherFactory.create(), capacity=3)
    students = StudentFactory.create_batch(8)

    def hold_or_enrol(course: Course, student: User) -> None:
        if student.pk % 2:
            holds.hold_seat(course=course, student=student)
        else:
            enrolment.enroll_student(course=course, student=student)

    outcomes = race(course, students, hold_or_enrol)
    assert outcomes == ["enrolled"] * 3 + ["full"] * 5, outcomes
    taken = Enrollment.objects.filter(course=course, status__in=["active", "held"]).count()
    assert taken == 3


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_it_makes_the_second_enrolment_wait_for_the_first_to_commit() -> None:
    course = CourseFactory.create(teacher=TeacherFactory.create(), capacity=1)
    first, second = StudentFactory.create_batch(2)
    holding, release = threading.Event(), threading.Event()
    outcomes: list[str] = []

    def hold_the_last_seat() -> None:
        try:
            with transaction.atomic():
                enrolment.enroll_student(course=course, student=first)
                holding.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    def try_for_it() -> None:
        holding.wait(timeout=10)
        try:
            enrolment.enroll_student(course=course, student=second)
            outcomes.append("enrolled")
        except enrolment.CourseFullError:
            outcomes.append("full")
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_last_seat)
    challenger = threading.Thread(target=try_for_it)
    holder.start()
    challenger.start()
    challenger.join(timeout=0.5)
    still_waiting = challenger.is_alive()
    release.set()
    holder.join(timeout=10)
    challenger.join(timeout=10)
    assert still_waiting, "the second enrolment did not wait for the course row's lock"
    assert outcomes == ["full"]
    assert active_count(course) == 1
