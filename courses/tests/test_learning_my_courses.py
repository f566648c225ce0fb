"""The student's list of courses, with what's new and what's due (also on the dashboard)."""

from datetime import timedelta

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from courses import selectors
from courses.models import Course, Enrollment, Submission
from courses.tests.factories import CourseFactory, CourseItemFactory, EnrollmentFactory
from tests.base import LecternTestCase, assert_constant_queries, count_queries


class MyCoursesTests(LecternTestCase):
    url = reverse("courses:my_courses")

    def test_it_lists_only_active_enrolments(self) -> None:
        EnrollmentFactory.create(student=self.bob, course__title="Jazz piano")
        EnrollmentFactory.create(student=self.bob, course__title="Left behind", status="left")
        EnrollmentFactory.create(student=self.dave, course__title="Dave's course")
        self.login(self.bob)
        response = self.client.get(self.url)
        self.assertContains(response, "Jazz piano")
        self.assertNotContains(response, "Left behind")
        self.assertNotContains(response, "Dave's course")

    def test_it_teaches_what_to_do_when_empty(self) -> None:
        self.login(self.bob)
        self.assertContains(self.client.get(self.url), "No courses yet")

    def test_it_counts_new_items_and_work_due_soon(self) -> None:
        now = timezone.now()
        course = CourseFactory.create(teacher=self.alice)
        enrollment = EnrollmentFactory.create(course=course, student=self.bob)
        Enrollment.objects.filter(pk=enrollment.pk).update(
            enrolled_at=now - timedelta(days=9), last_visited_at=now - timedelta(days=1)
        )
        CourseItemFactory.create(course=course)
        CourseItemFactory.create(course=course, published=False)
        CourseItemFactory.create(course=course, note=True)
        due = CourseItemFactory.create(
            course=course, assignment=True, due_at=now + timedelta(days=1)
        )
        done = CourseItemFactory.create(
            course=course, assignment=True, due_at=now + timedelta(days=2)
        )
        Submission.objects.create(item=done, student=self.bob)
        CourseItemFactory.create(course=course, session=True, starts_at=now + timedelta(days=3))

        annotations = ["new_count", "due_count", "next_due_at", "next_session_at"]
        row = selectors.student_courses(self.bob).values(*annotations).get()
        assert row["new_count"] == 4  # material, two assignments, session
        assert row["due_count"] == 1
        assert row["next_due_at"] == due.due_at
        assert row["next_session_at"] is not None

        self.login(self.bob)
        response = self.client.get(self.url)
        self.assertContains(response, "4 new")
        self.assertContains(response, "1 due by")

    def test_it_says_all_caught_up(self) -> None:
        EnrollmentFactory.create(student=self.bob)
        self.login(self.bob)
        self.assertContains(self.client.get(self.url), "All caught up")

    def test_it_renders_the_dashboard_partial_from_the_selector(self) -> None:
        EnrollmentFactory.create(student=self.bob, course__title="Jazz piano")
        queries, _, html = count_queries(
            lambda: render_to_string(
                "courses/learning/_my_courses.html",
                {"enrollments": selectors.student_courses(self.bob)},
            )
        )
        assert "Jazz piano" in html
        assert queries == 1

    def test_it_runs_the_same_queries_for_10_and_1000_courses(self) -> None:
        self.login(self.bob)

        def enrol(n: int) -> None:
            courses = Course.objects.bulk_create(CourseFactory.build_batch(n, teacher=self.alice))
            Enrollment.objects.bulk_create(Enrollment(course=c, student=self.bob) for c in courses)
            for course in courses[:3]:
                CourseItemFactory.create(course=course, assignment=True)

        assert_constant_queries(self, self.url, enrol, budget=10)
