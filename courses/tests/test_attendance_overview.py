"""The course attendance overview, its CSV export, and a student's own attendance."""

import csv
import io
from datetime import UTC, datetime

from django.urls import reverse

from courses.models import Attendance, Enrollment
from courses.tests.factories import CourseFactory, CourseItemFactory
from tests.base import LecternTestCase, StudentFactory, assert_constant_queries


class OverviewTestCase(LecternTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.course = CourseFactory.create(teacher=self.alice, title="Pottery", slug="pottery")
        self.week1 = CourseItemFactory.create(
            course=self.course,
            session=True,
            title="Week 1",
            starts_at=datetime(2026, 11, 3, 18, tzinfo=UTC),
        )
        self.week2 = CourseItemFactory.create(
            course=self.course,
            session=True,
            title="Week 2",
            starts_at=datetime(2026, 11, 10, 18, tzinfo=UTC),
        )
        self.erin = StudentFactory.create(first_name="Erin", last_name="Evans")
        for student in (self.bob, self.erin, self.dave):
            Enrollment.objects.create(course=self.course, student=student)
        marks = [
            (self.week1, self.bob, "present"),
            (self.week2, self.bob, "late"),
            (self.week1, self.erin, "absent"),
            (self.week2, self.erin, "present"),
            (self.week1, self.dave, "present"),
        ]
        for item, student, status in marks:
            Attendance.objects.create(item=item, student=student, status=status)
        self.overview_url = reverse("courses:attendance_overview", args=["pottery"])
        self.csv_url = reverse("courses:attendance_csv", args=["pottery"])


class AttendanceOverviewTests(OverviewTestCase):
    def test_it_counts_every_student_and_session(self) -> None:
        self.login(self.alice)
        response = self.client.get(self.overview_url)
        overview = response.context["overview"]
        assert [s.title for s in overview.sessions] == ["Week 1", "Week 2"]
        rows = {row.student.first_name: row for row in overview.rows}
        assert rows["Bob"].cells == ["present", "late"]
        assert rows["Dave"].cells == ["present", None]
        assert (rows["Bob"].tally.attended, rows["Bob"].tally.rate) == (2, 100)
        assert (rows["Erin"].tally.absent, rows["Erin"].tally.rate) == (1, 50)
        assert rows["Dave"].tally.marked == 1
        assert [t.attended for t in overview.session_tallies] == [2, 2]
        assert [t.marked for t in overview.session_tallies] == [3, 2]
        assert overview.total.rate == 80  # 4 attended of 5 marked
        self.assertContains(response, "80%")
        self.assertContains(
            response, reverse("courses:attendance", args=["pottery", self.week1.pk])
        )

    def test_it_leaves_out_students_who_left(self) -> None:
        Enrollment.objects.filter(student=self.dave).update(status=Enrollment.Status.LEFT)
        self.login(self.alice)
        response = self.client.get(self.overview_url)
        self.assertNotContains(response, "Dave Dunn")

    def test_it_teaches_what_to_do_without_sessions(self) -> None:
        course = CourseFactory.create(teacher=self.alice)
        self.login(self.alice)
        response = self.client.get(reverse("courses:attendance_overview", args=[course.slug]))
        self.assertContains(response, "No sessions yet")

    def test_it_hides_the_overview_from_another_teacher_and_students(self) -> None:
        for person in (self.carol, self.bob):
            self.login(person)
            assert self.client.get(self.overview_url).status_code == 404
            assert self.client.get(self.csv_url).status_code == 404

    def test_it_makes_as_many_queries_for_a_big_class(self) -> None:
        self.login(self.alice)

        def add_students(n: int) -> None:
            students = StudentFactory._meta.model.objects.bulk_create(
                StudentFactory.build(verified=False, accepted_policies=False) for _ in range(n)
            )
            Enrollment.objects.bulk_create(
                Enrollment(course=self.course, student=s) for s in students
            )
            Attendance.objects.bulk_create(
                Attendance(item=item, student=s, status="late")
                for s in students
                for item in (self.week1, self.week2)
            )

        assert_constant_queries(self, self.overview_url, add_students)


class AttendanceCsvTests(OverviewTestCase):
    def rows(self) -> list[list[str]]:
        self.login(self.alice)
        response = self.client.get(self.csv_url)
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert 'filename="attendance-pottery.csv"' in response["Content-Disposition"]
        return list(csv.reader(io.StringIO(response.content.decode())))

    def test_it_exports_one_row_per_student(self) -> None:
        header, *rows = self.rows()
        assert header == [
            "Student",
            "Email",
            "Week 1 (2026-11-03 18:00 UTC)",
            "Week 2 (2026-11-10 18:00 UTC)",
            "Present",
            "Late",
            "Absent",
            "Rate",
        ]
        by_name = {row[0]: row for row in rows}
        assert by_name["Bob Baker"] == [
            "Bob Baker",
            "bob@example.com",
            "Present",
            "Late",
            "1",
            "1",
            "0",
            "100%",
        ]
        assert by_name["Dave Dunn"][2:4] == ["Present", ""]

    def test_it_neutralises_formulas(self) -> None:
        self.erin.first_name = '=HYPERLINK("http://evil.example")'
        self.erin.last_name = ""
        self.erin.save(update_fields=["first_name", "last_name"])
        self.week2.title = "+SUM(A1:A9)"
        self.week2.save(update_fields=["title"])
        header, *rows = self.rows()
        assert header[3] == "'+SUM(A1:A9) (2026-11-10 18:00 UTC)"
        names = [row[0] for row in rows]
        assert '\'=HYPERLINK("http://evil.example")' in names
        for row in [header, *rows]:
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@")), cell

    def test_it_writes_session_times_in_the_teachers_time_zone(self) -> None:
        self.alice.timezone = "Asia/Tokyo"
        self.alice.save(update_fields=["timezone"])
        header = self.rows()[0]
        assert header[2] == "Week 1 (2026-11-04 03:00 Asia/Tokyo)"


class MyAttendanceTests(OverviewTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.url = reverse("courses:my_attendance", args=["pottery"])

    def test_it_shows_a_student_their_own_marks_only(self) -> None:
        self.login(self.erin)
        response = self.client.get(self.url)
        assert [(r.session.title, r.status) for r in response.context["rows"]] == [
            ("Week 1", "absent"),
            ("Week 2", "present"),
        ]
        assert response.context["tally"].rate == 50
        self.assertContains(response, "Absent")
        self.assertNotContains(response, "Bob Baker")
        self.assertNotContains(response, "Dave Dunn")

    def test_it_leaves_out_unpublished_sessions(self) -> None:
        CourseItemFactory.create(course=self.course, session=True, title="Hidden", published=False)
        self.login(self.bob)
        self.assertNotContains(self.client.get(self.url), "Hidden")

    def test_it_sends_the_teacher_to_the_overview(self) -> None:
        self.login(self.alice)
        self.assertRedirects(self.client.get(self.url), self.overview_url)

    def test_it_hides_courses_the_person_is_not_in(self) -> None:
        self.login(self.carol)
        assert self.client.get(self.url).status_code == 404
        Enrollment.objects.filter(student=self.bob).update(status=Enrollment.Status.LEFT)
        self.login(self.bob)
        assert self.client.get(self.url).status_code == 404
