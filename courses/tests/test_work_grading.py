"""The teacher's grading queue and grade page; what the student sees of it."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from courses.models import Submission
from courses.tests.factories import CourseFactory, CourseItemFactory, EnrollmentFactory
from tests.base import LecternTestCase, StudentFactory


class GradingTests(LecternTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.course = CourseFactory.create(teacher=self.alice)
        EnrollmentFactory.create(course=self.course, student=self.bob)
        self.item = CourseItemFactory.create(course=self.course, assignment=True, points=10)
        self.submission = Submission.objects.create(
            item=self.item,
            student=self.bob,
            text="My **answer**",
            submitted_at=timezone.now() - timedelta(hours=2),
        )
        self.url = reverse("courses:grade", args=[self.submission.pk])

    def post(self, user=None, **data):
        return self.new_client(user or self.alice).post(self.url, data)

    def test_it_shows_the_work_to_the_teacher(self) -> None:
        response = self.new_client(self.alice).get(self.url)
        self.assertContains(response, "<strong>answer</strong>", html=True)
        self.assertContains(response, "Save and return to student")

    def test_it_saves_a_grade_without_showing_it(self) -> None:
        response = self.post(points="7", feedback="Good start", action="save")
        assert response.status_code == 302
        self.submission.refresh_from_db()
        assert self.submission.points_awarded == 7
        assert self.submission.graded_by == self.alice
        assert self.submission.graded_at is not None
        assert self.submission.returned_at is None
        page = self.new_client(self.bob).get(reverse("courses:my_grades", args=[self.course.slug]))
        self.assertNotContains(page, "Good start")
        self.assertContains(page, "waiting for a grade")

    def test_it_returns_a_grade_to_the_student(self) -> None:
        self.post(points="9", feedback="Well **argued**", action="return")
        self.submission.refresh_from_db()
        assert self.submission.returned_at is not None
        page = self.new_client(self.bob).get(reverse("courses:my_grades", args=[self.course.slug]))
        self.assertContains(page, "<strong>argued</strong>", html=True)
        self.assertContains(page, "9 / 10")

    def test_it_changes_and_re_returns_a_returned_grade(self) -> None:
        self.post(points="9", feedback="First", action="return")
        self.post(points="6", feedback="Second look", action="return")
        self.submission.refresh_from_db()
        assert self.submission.points_awarded == 6
        assert self.submission.feedback == "Second look"
        assert self.submission.returned_at is not None

    def test_it_hides_a_returned_grade_saved_as_draft(self) -> None:
        self.post(points="9", action="return")
        self.post(points="4", action="save")
        self.submission.refresh_from_db()
        assert self.submission.returned_at is None

    def test_it_refuses_points_over_the_maximum(self) -> None:
        response = self.post(points="11", feedback="Too generous", action="return")
        self.assertContains(response, "less than or equal to 10", status_code=400)
        self.assertContains(response, "Too generous", status_code=400)
        self.submission.refresh_from_db()
        assert self.submission.graded_at is None

    def test_it_refuses_negative_points(self) -> None:
        response = self.post(points="-1", action="save")
        assert response.status_code == 400
        self.submission.refresh_from_db()
        assert self.submission.points_awarded is None

    def test_it_refuses_missing_or_non_numeric_points(self) -> None:
        assert self.post(points="", action="save").status_code == 400
        assert self.post(points="ten", action="save").status_code == 400

    def test_it_is_404_for_another_teacher_and_for_students(self) -> None:
        for user in (self.carol, self.bob, self.dave, self.staff):
            assert self.new_client(user).get(self.url).status_code == 404
            assert self.post(user=user, points="1", action="return").status_code == 404
        self.submission.refresh_from_db()
        assert self.submission.graded_at is None

    def test_it_moves_on_to_the_next_ungraded_submission(self) -> None:
        other = StudentFactory.create()
        EnrollmentFactory.create(course=self.course, student=other)
        later = Submission.objects.create(item=self.item, student=other, text="Mine")
        response = self.post(points="5", action="return")
        self.assertRedirects(
            response, reverse("courses:grade", args=[later.pk]), fetch_redirect_response=False
        )
        response = self.new_client(self.alice).post(
            reverse("courses:grade", args=[later.pk]), {"points": "5", "action": "return"}
        )
        self.assertRedirects(
            response,
            reverse("courses:grading", args=[self.course.slug]),
            fetch_redirect_response=False,
        )


class QueueTests(LecternTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.course = CourseFactory.create(teacher=self.alice)
        self.item = CourseItemFactory.create(course=self.course, assignment=True, title="Essay one")
        self.url = reverse("courses:grading", args=[self.course.slug])

    def add(self, name: str, hours_ago: int, graded: bool = False, late: bool = False):
        student = StudentFactory.create(first_name=name)
        EnrollmentFactory.create(course=self.course, student=student)
        now = timezone.now()
        return Submission.objects.create(
            item=self.item,
            student=student,
            submitted_at=now - timedelta(hours=hours_ago),
            graded_at=now if graded else None,
            points_awarded=5 if graded else None,
            is_late=late,
        )

    def test_it_lists_ungraded_work_first_oldest_first(self) -> None:
        self.add("Graded", 10, graded=True)
        self.add("Newer", 1)
        self.add("Older", 5, late=True)
        response = self.new_client(self.alice).get(self.url)
        body = response.content.decode()
        assert body.index("Older") < body.index("Newer")
        assert body.index("Newer") < body.index("Graded")
        self.assertContains(response, "2 submissions waiting")
        self.assertContains(response, ">Late<")

    def test_it_teaches_what_to_do_when_empty(self) -> None:
        response = self.new_client(self.alice).get(self.url)
        self.assertContains(response, "No submissions yet")

    def test_it_is_404_for_another_teacher(self) -> None:
        assert self.new_client(self.carol).get(self.url).status_code == 404
