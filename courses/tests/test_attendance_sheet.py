"""Marking one session: a status per actively enrolled student, saved in one upsert."""

import re

from django.urls import reverse

from courses.models import Attendance, Enrollment
from courses.services import attendance as services
from courses.tests.factories import CourseFactory, CourseItemFactory
from tests.base import LecternTestCase, StudentFactory, assert_constant_queries

_CHECKED = re.compile(r'<input type="radio" name="s(\d+)" value="(\w+)"[^>]*\bchecked\b')


def checked(response) -> dict[int, str]:
    """Return the status each row of the rendered sheet has selected, by student id."""
    return {int(pk): status for pk, status in _CHECKED.findall(response.content.decode())}


class AttendanceSheetTests(LecternTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.course = CourseFactory.create(teacher=self.alice, title="Pottery")
        self.session = CourseItemFactory.create(course=self.course, session=True, title="Week 1")
        Enrollment.objects.create(course=self.course, student=self.bob)
        self.erin = StudentFactory.create(first_name="Erin", last_name="Evans")
        Enrollment.objects.create(course=self.course, student=self.erin)
        self.gone = StudentFactory.create(first_name="Gwen", last_name="Gone")
        Enrollment.objects.create(
            course=self.course, student=self.gone, status=Enrollment.Status.LEFT
        )
        self.url = reverse("courses:attendance", args=[self.course.slug, self.session.pk])

    def statuses(self) -> dict[int, str]:
        return dict(Attendance.objects.values_list("student_id", "status"))

    def test_it_lists_the_actively_enrolled_students(self) -> None:
        self.login(self.alice)
        response = self.client.get(self.url)
        self.assertContains(response, "Bob Baker")
        self.assertContains(response, "Erin Evans")
        self.assertNotContains(response, "Gwen Gone")
        self.assertContains(response, f'name="s{self.bob.pk}" value="present"')
        self.assertContains(response, "Save attendance")

    def test_it_saves_every_mark_at_once(self) -> None:
        self.login(self.alice)
        response = self.client.post(
            self.url, {f"s{self.bob.pk}": "present", f"s{self.erin.pk}": "late"}
        )
        self.assertRedirects(response, self.url)
        assert self.statuses() == {self.bob.pk: "present", self.erin.pk: "late"}
        assert set(Attendance.objects.values_list("marked_by", flat=True)) == {self.alice.pk}
        assert checked(self.client.get(self.url)) == {self.bob.pk: "present", self.erin.pk: "late"}

    def test_it_updates_marks_without_duplicating_them(self) -> None:
        self.login(self.alice)
        self.client.post(self.url, {f"s{self.bob.pk}": "present", f"s{self.erin.pk}": "late"})
        first = Attendance.objects.get(student=self.erin)
        self.client.post(self.url, {f"s{self.bob.pk}": "absent", f"s{self.erin.pk}": "late"})
        assert self.statuses() == {self.bob.pk: "absent", self.erin.pk: "late"}
        assert Attendance.objects.count() == 2
        # An unchanged mark keeps when it was made.
        assert Attendance.objects.get(student=self.erin).marked_at == first.marked_at

    def test_it_leaves_students_without_a_choice_unmarked(self) -> None:
        self.login(self.alice)
        self.client.post(self.url, {f"s{self.bob.pk}": "present"})
        assert self.statuses() == {self.bob.pk: "present"}

    def test_it_ignores_students_who_are_not_enrolled(self) -> None:
        self.login(self.alice)
        response = self.client.post(
            self.url,
            {
                f"s{self.bob.pk}": "present",
                f"s{self.dave.pk}": "present",
                f"s{self.gone.pk}": "absent",
            },
        )
        assert response.status_code == 302
        assert self.statuses() == {self.bob.pk: "present"}

    def test_the_service_skips_students_who_are_not_enrolled(self) -> None:
        changed = services.record_attendance(
            item=self.session,
            marked_by=self.alice,
            statuses={self.bob.pk: "late", self.dave.pk: "present", self.gone.pk: "present"},
        )
        assert changed == 1
        assert self.statuses() == {self.bob.pk: "late"}

    def test_it_refuses_an_unknown_status(self) -> None:
        self.login(self.alice)
        response = self.client.post(
            self.url, {f"s{self.bob.pk}": "present", f"s{self.erin.pk}": "asleep"}
        )
        self.assertContains(response, "Choose present, late or absent", status_code=400)
        assert self.statuses() == {}

    def test_mark_all_present_fills_the_sheet_without_saving(self) -> None:
        self.login(self.alice)
        response = self.client.post(self.url, {"fill": "present"})
        assert response.status_code == 200
        assert checked(response) == {self.bob.pk: "present", self.erin.pk: "present"}
        self.assertContains(response, "not saved yet")
        assert self.statuses() == {}

    def test_it_hides_the_sheet_from_another_teacher(self) -> None:
        self.login(self.carol)
        assert self.client.get(self.url).status_code == 404
        assert self.client.post(self.url, {f"s{self.bob.pk}": "present"}).status_code == 404
        assert self.statuses() == {}

    def test_it_hides_the_sheet_from_students(self) -> None:
        self.login(self.bob)
        assert self.client.post(self.url, {f"s{self.bob.pk}": "present"}).status_code == 404
        assert self.statuses() == {}

    def test_it_only_takes_attendance_for_sessions(self) -> None:
        material = CourseItemFactory.create(course=self.course, material=True)
        self.login(self.alice)
        url = reverse("courses:attendance", args=[self.course.slug, material.pk])
        assert self.client.get(url).status_code == 404

    def test_it_does_not_mix_up_courses(self) -> None:
        other = CourseFactory.create(teacher=self.alice)
        self.login(self.alice)
        url = reverse("courses:attendance", args=[other.slug, self.session.pk])
        assert self.client.get(url).status_code == 404

    def test_it_teaches_what_to_do_without_students(self) -> None:
        Enrollment.objects.all().delete()
        self.login(self.alice)
        self.assertContains(self.client.get(self.url), "No students to mark yet")

    def test_it_makes_as_many_queries_for_a_big_class(self) -> None:
        Enrollment.objects.all().delete()
        self.login(self.alice)

        def add_students(n: int) -> None:
            students = StudentFactory._meta.model.objects.bulk_create(
                StudentFactory.build(verified=False, accepted_policies=False) for _ in range(n)
            )
            Enrollment.objects.bulk_create(
                Enrollment(course=self.course, student=s) for s in students
            )
            Attendance.objects.bulk_create(
                Attendance(item=self.session, student=s, status="present") for s in students
            )

        assert_constant_queries(self, self.url, add_students)

    def test_saving_makes_as_many_queries_for_a_big_class(self) -> None:
        Enrollment.objects.all().delete()
        self.login(self.alice)
        rounds = iter(["present", "late", "absent", "present"])

        def add_students(n: int) -> None:
            students = StudentFactory._meta.model.objects.bulk_create(
                StudentFactory.build(verified=False, accepted_policies=False) for _ in range(n)
            )
            Enrollment.objects.bulk_create(
                Enrollment(course=self.course, student=s) for s in students
            )

        def save_all() -> None:
            status = next(rounds)
            ids = Enrollment.objects.filter(course=self.course).values_list("student_id", flat=True)
            response = self.client.post(self.url, {f"s{pk}": status for pk in ids})
            assert response.status_code == 302

        assert_constant_queries(self, save_all, add_students)
        assert Attendance.objects.filter(item=self.session).count() == 1000
