"""The dashboard: a teacher's courses with what needs attention; a student's courses."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from courses.models import Enrollment, Submission
from courses.tests.factories import CourseFactory, CourseItemFactory, EnrollmentFactory
from tests.base import LecternTestCase, StudentFactory, assert_constant_queries

URL = reverse("dashboard")


class TeacherDashboardTests(LecternTestCase):
    def setUp(self) -> None:
        self.login(self.alice)

    def test_it_teaches_what_to_do_first_without_courses(self) -> None:
        html = self.client.get(URL).content.decode()
        assert "Create your first course" in html
        assert reverse("courses:teach_course_new") in html
        assert "Coming soon" not in html

    def test_it_lists_courses_with_students_next_session_and_work_to_grade(self) -> None:
        course = CourseFactory.create(teacher=self.alice, title="Clay", capacity=12)
        EnrollmentFactory.create_batch(3, course=course)
        EnrollmentFactory.create(course=course, status=Enrollment.Status.REMOVED)
        soon = timezone.now() + timedelta(days=1)
        CourseItemFactory.create(course=course, session=True, title="Week 2", starts_at=soon)
        CourseItemFactory.create(
            course=course, session=True, title="Week 3", starts_at=soon + timedelta(days=7)
        )
        assignment = CourseItemFactory.create(course=course, assignment=True)
        for student in StudentFactory.create_batch(2):
            Submission.objects.create(item=assignment, student=student)
        Submission.objects.create(item=assignment, student=self.bob, graded_at=timezone.now())
        CourseFactory.create(teacher=self.carol, title="Carol's")
        response = self.client.get(URL)
        (row,) = response.context["teaching"]
        assert row.enrolled == 3
        assert row.ungraded == 2
        assert row.next_session_title == "Week 2"
        html = response.content.decode()
        assert "3 / 12" in html
        assert "2 to grade" in html
        assert "Public" in html
        assert "Carol" not in html.split('id="teach-title"')[1].split("</section>")[0]

    def test_it_keeps_archived_courses_apart(self) -> None:
        CourseFactory.create(teacher=self.alice, title="Old one", archived=True)
        response = self.client.get(URL)
        assert response.context["teaching"] == []
        assert [c.title for c in response.context["archived"]] == ["Old one"]
        assert "Archived (1)" in response.content.decode()

    def test_it_makes_the_same_queries_for_10_and_1000_courses(self) -> None:
        def add(n: int) -> None:
            courses = CourseFactory.create_batch(n, teacher=self.alice)
            for course in courses[:5]:
                EnrollmentFactory.create(course=course)
                CourseItemFactory.create(course=course, session=True)

        assert_constant_queries(self, URL, add, counts=(10, 1000), budget=15)


class StudentDashboardTests(LecternTestCase):
    def test_it_shows_enrolled_courses_with_whats_due(self) -> None:
        course = CourseFactory.create(title="Clay")
        Enrollment.objects.create(course=course, student=self.bob)
        CourseItemFactory.create(
            course=course, assignment=True, due_at=timezone.now() + timedelta(days=2)
        )
        CourseFactory.create(title="Not mine")
        html = self.new_client(self.bob).get(URL).content.decode()
        assert "Clay" in html
        assert "1 due by" in html
        assert "Not mine" not in html

    def test_it_teaches_where_to_start_without_courses(self) -> None:
        html = self.new_client(self.dave).get(URL).content.decode()
        assert "No courses yet" in html

    def test_it_makes_the_same_queries_for_10_and_1000_enrolments(self) -> None:
        self.login(self.bob)

        def add(n: int) -> None:
            courses = CourseFactory.create_batch(n, teacher=self.alice)
            Enrollment.objects.bulk_create(
                [Enrollment(course=c, student=self.bob) for c in courses]
            )

        assert_constant_queries(self, URL, add, counts=(10, 1000), budget=15)
