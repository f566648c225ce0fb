"""Gradebooks: the teacher's table and CSV, and a student's own grades."""

import csv
import io
import re

from django.urls import reverse
from django.utils import timezone

from courses.models import Submission
from courses.tests.factories import CourseFactory, CourseItemFactory, EnrollmentFactory
from tests.base import LecternTestCase, StudentFactory


class GradebookTests(LecternTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.course = CourseFactory.create(teacher=self.alice, slug="intro-ceramics")
        EnrollmentFactory.create(course=self.course, student=self.bob)
        self.eve = StudentFactory.create(first_name='=HYPERLINK("http://x")', last_name="Evil")
        EnrollmentFactory.create(course=self.course, student=self.eve)
        self.one = CourseItemFactory.create(
            course=self.course, assignment=True, points=10, title="Essay"
        )
        self.two = CourseItemFactory.create(
            course=self.course, assignment=True, points=30, title="+Project"
        )
        CourseItemFactory.create(course=self.course, assignment=True, points=50, published=False)
        now = timezone.now()
        self.grade(self.bob, self.one, 8, returned=True)
        self.grade(self.bob, self.two, 21, returned=False, late=True)
        self.grade(self.eve, self.one, None)
        self.now = now

    def grade(self, student, item, points, returned=False, late=False) -> Submission:
        now = timezone.now()
        return Submission.objects.create(
            item=item,
            student=student,
            text="work",
            is_late=late,
            points_awarded=points,
            feedback=f"Feedback on {item.title}",
            graded_at=now if points is not None else None,
            returned_at=now if returned else None,
        )

    def test_it_shows_the_teacher_every_grade_with_totals(self) -> None:
        response = self.new_client(self.alice).get(
            reverse("courses:gradebook", args=[self.course.slug])
        )
        assert response.status_code == 200
        rows = {r.student.pk: r for r, _ in response.context["rows"]}
        book = response.context["book"]
        assert book.possible == 40  # the unpublished assignment doesn't count
        assert rows[self.bob.pk].total == 29
        assert book.percent(rows[self.bob.pk]) == 72.5
        assert rows[self.bob.pk].late_count == 1
        assert rows[self.eve.pk].total == 0
        self.assertContains(response, "To grade")
        self.assertContains(response, ">Late<")

    def test_it_exports_csv_with_formulas_neutralised(self) -> None:
        response = self.new_client(self.alice).get(
            reverse("courses:gradebook_csv", args=[self.course.slug])
        )
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert re.search(
            r'attachment; filename="gradebook-intro-ceramics-\d{4}-\d{2}-\d{2}\.csv"',
            response["Content-Disposition"],
        )
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"))))
        assert rows[0] == [
            "Student",
            "Email",
            "Essay (/10)",
            "'+Project (/30)",
            "Total",
            "Possible",
            "Percent",
            "Late submissions",
        ]
        by_email = {row[1]: row for row in rows[1:]}
        assert by_email[self.bob.email] == [
            "Bob Baker",
            self.bob.email,
            "8",
            "21",
            "29",
            "40",
            "72.5",
            "1",
        ]
        eve = by_email[self.eve.email]
        assert eve[0] == '\'=HYPERLINK("http://x") Evil'
        assert eve[2:] == ["", "", "0", "40", "0.0", "0"]

    def test_it_shows_a_student_only_returned_grades(self) -> None:
        response = self.new_client(self.bob).get(
            reverse("courses:my_grades", args=[self.course.slug])
        )
        self.assertContains(response, "Feedback on Essay")
        self.assertNotContains(response, "Feedback on +Project")
        self.assertContains(response, "8 / 10")
        self.assertNotContains(response, "21 / 30")
        self.assertNotContains(response, "<strong>21</strong>", html=False)
        self.assertContains(response, "<strong>8</strong> of 40 points", html=False)
        self.assertContains(response, "(20%)")

    def test_it_shows_a_student_their_own_grades_only(self) -> None:
        response = self.new_client(self.eve).get(
            reverse("courses:my_grades", args=[self.course.slug])
        )
        self.assertNotContains(response, "Feedback on Essay")
        self.assertContains(response, "waiting for a grade")

    def test_it_sends_the_teacher_to_the_gradebook(self) -> None:
        response = self.new_client(self.alice).get(
            reverse("courses:my_grades", args=[self.course.slug])
        )
        self.assertRedirects(
            response,
            reverse("courses:gradebook", args=[self.course.slug]),
            fetch_redirect_response=False,
        )

    def test_it_is_404_for_outsiders(self) -> None:
        for name in ("gradebook", "gradebook_csv"):
            url = reverse(f"courses:{name}", args=[self.course.slug])
            for user in (self.carol, self.bob, self.staff):
                assert self.new_client(user).get(url).status_code == 404
        url = reverse("courses:my_grades", args=[self.course.slug])
        assert self.new_client(self.dave).get(url).status_code == 404
        assert self.new_client(self.carol).get(url).status_code == 404

    def test_it_teaches_what_to_do_when_there_are_no_students(self) -> None:
        course = CourseFactory.create(teacher=self.alice)
        response = self.new_client(self.alice).get(reverse("courses:gradebook", args=[course.slug]))
        self.assertContains(response, "No students yet")
