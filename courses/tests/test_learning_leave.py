"""A student leaving a course."""

from django.urls import reverse

from courses.models import Enrollment
from courses.tests.factories import CourseFactory, EnrollmentFactory
from tests.base import LecternTestCase


class LeaveCourseTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, slug="yoga")
        self.enrollment = EnrollmentFactory.create(course=self.course, student=self.bob)
        self.url = reverse("courses:leave", args=["yoga"])

    def test_it_asks_first(self) -> None:
        self.login(self.bob)
        response = self.client.get(self.url)
        self.assertContains(response, "Leave ")
        self.assertContains(response, 'method="post"')
        self.enrollment.refresh_from_db()
        assert self.enrollment.status == Enrollment.Status.ACTIVE

    def test_it_leaves_and_closes_the_course_page(self) -> None:
        self.login(self.bob)
        response = self.client.post(self.url)
        self.assertRedirects(response, reverse("courses:my_courses"))
        self.enrollment.refresh_from_db()
        assert self.enrollment.status == Enrollment.Status.LEFT
        assert self.client.get(reverse("courses:course", args=["yoga"])).status_code == 404

    def test_it_lets_the_student_enrol_again(self) -> None:
        self.login(self.bob)
        self.client.post(self.url)
        self.client.post(reverse("courses:enroll", args=["yoga"]))
        self.enrollment.refresh_from_db()
        assert self.enrollment.status == Enrollment.Status.ACTIVE
        assert Enrollment.objects.filter(student=self.bob).count() == 1

    def test_it_is_404_for_the_teacher_and_outsiders(self) -> None:
        for person in (self.alice, self.dave):
            self.login(person)
            assert self.client.post(self.url).status_code == 404
