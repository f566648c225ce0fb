"""The enrol, waitlist and enrol-page views behind the storefront's enrol box."""

from django.core import mail
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from courses.models import Enrollment, WaitlistEntry
from courses.tests.factories import CourseFactory, EnrollmentFactory
from courses.views.enrolment import enrol_box_context
from tests.base import LecternTestCase


class EnrollViewTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, capacity=1, slug="pottery")
        self.url = reverse("courses:enroll", args=["pottery"])

    def test_it_enrols_in_one_click(self) -> None:
        self.login(self.bob)
        response = self.client.post(self.url)
        self.assertRedirects(response, reverse("courses:course", args=["pottery"]))
        self.assertTrue(
            Enrollment.objects.filter(course=self.course, student=self.bob, status="active").exists()
        )

    def test_it_shows_the_enrol_button_on_its_own_page(self) -> None:
        self.login(self.bob)
        response = self.client.get(self.url)
        self.assertContains(response, f'action="{self.url}"')
        self.assertContains(response, ">Enrol</button>", html=False)
        self.assertContains(response, "1 seat left")

    def test_it_sends_an_enrolled_student_to_the_course(self) -> None:
        EnrollmentFactory.create(course=self.course, student=self.bob)
        self.login(self.bob)
        self.assertRedirects(
            self.client.get(self.url), reverse("courses:course", args=["pottery"])
        )

    def test_it_asks_visitors_to_log_in(self) -> None:
        response = self.client.post(self.url)
        self.assertEqual(response.status_code, 302)
        self.assertIn(reverse("account_login"), response["Location"])
        self.assertFalse(Enrollment.objects.exists())

    def test_it_explains_a_full_course(self) -> None:
        EnrollmentFactory.create(course=self.course)
        self.login(self.bob)
        response = self.client.post(self.url, follow=True)
        self.assertContains(response, "This course is full")
        self.assertContains(response, "Join the waitlist")
        self.assertFalse(Enrollment.objects.filter(student=self.bob).exists())

    def test_it_refuses_a_paid_course_with_a_message(self) -> None:
        CourseFactory.create(teacher=self.alice, paid=True, slug="paid")
        self.login(self.bob)
        response = self.client.post(reverse("courses:enroll", args=["paid"]), follow=True)
        self.assertContains(response, "Enrolment opens soon")
        self.assertFalse(Enrollment.objects.filter(student=self.bob).exists())

    def test_it_hides_a_draft_from_students(self) -> None:
        CourseFactory.create(teacher=self.alice, draft=True, slug="secret")
        self.login(self.bob)
        url = reverse("courses:enroll", args=["secret"])
        self.assertEqual(self.client.post(url).status_code, 404)
        self.assertEqual(self.client.get(url).status_code, 404)

    def test_it_hides_an_archived_course(self) -> None:
        CourseFactory.create(teacher=self.alice, archived=True, slug="over")
        self.login(self.bob)
        self.assertEqual(self.client.post(reverse("courses:enroll", args=["over"])).status_code, 404)

    def test_it_refuses_the_teacher_their_own_course(self) -> None:
        self.login(self.alice)
        response = self.client.post(self.url, follow=True)
        self.assertContains(response, "You teach this course")
        self.assertFalse(Enrollment.objects.exists())

    def test_it_rejects_other_methods(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.put(self.url).status_code, 405)


class WaitlistViewTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, capacity=1, slug="full")
        self.seat = EnrollmentFactory.create(course=self.course, student=self.dave)

    def test_it_joins_the_waitlist(self) -> None:
        self.login(self.bob)
        response = self.client.post(reverse("courses:join_waitlist", args=["full"]), follow=True)
        self.assertContains(response, "You're on the waitlist")
        self.assertContains(response, "Leave the waitlist")
        self.assertTrue(WaitlistEntry.objects.filter(course=self.course, student=self.bob).exists())

    def test_it_enrols_when_a_seat_is_free_after_all(self) -> None:
        self.seat.status = Enrollment.Status.LEFT
        self.seat.save(update_fields=["status"])
        self.login(self.bob)
        response = self.client.post(reverse("courses:join_waitlist", args=["full"]))
        self.assertRedirects(response, reverse("courses:course", args=["full"]))

    def test_it_leaves_the_waitlist(self) -> None:
        WaitlistEntry.objects.create(course=self.course, student=self.bob)
        self.login(self.bob)
        response = self.client.post(reverse("courses:leave_waitlist", args=["full"]))
        self.assertEqual(response.status_code, 302)
        self.assertFalse(WaitlistEntry.objects.exists())

    def test_it_answers_404_to_leaving_a_waitlist_you_are_not_on(self) -> None:
        self.login(self.bob)
        response = self.client.post(reverse("courses:leave_waitlist", args=["full"]))
        self.assertEqual(response.status_code, 404)

    def test_it_promotes_and_emails_when_the_seat_holder_leaves(self) -> None:
        WaitlistEntry.objects.create(course=self.course, student=self.bob)
        self.login(self.dave)
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(reverse("courses:leave", args=["full"]))
        self.assertTrue(
            Enrollment.objects.filter(course=self.course, student=self.bob, status="active").exists()
        )
        self.assertEqual([m.to for m in mail.outbox], [["bob@example.com"]])


class EnrolBoxTests(LecternTestCase):
    """The include the storefront page renders, in each of its states."""

    def render_box(self, user, course) -> str:
        request = RequestFactory().get(f"/c/{course.slug}/")
        request.user = user
        context = {**enrol_box_context(user, course), "user": user, "request": request}
        return render_to_string("courses/enrolment/_enrol_box.html", context, request=request)

    def test_it_offers_visitors_the_registration_form_and_log_in(self) -> None:
        from django.contrib.auth.models import AnonymousUser

        course = CourseFactory.create(teacher=self.alice)
        html = self.render_box(AnonymousUser(), course)
        self.assertIn(reverse("courses:register", args=[course.slug]), html)
        self.assertIn('name="email"', html)
        self.assertIn("Log in to enrol", html)

    def test_it_offers_a_student_one_click(self) -> None:
        course = CourseFactory.create(teacher=self.alice)
        html = self.render_box(self.bob, course)
        self.assertIn(reverse("courses:enroll", args=[course.slug]), html)
        self.assertNotIn('name="email"', html)

    def test_it_sends_an_enrolled_student_to_the_course(self) -> None:
        course = CourseFactory.create(teacher=self.alice)
        EnrollmentFactory.create(course=course, student=self.bob)
        self.assertIn("Go to course", self.render_box(self.bob, course))

    def test_it_offers_the_waitlist_when_full(self) -> None:
        course = CourseFactory.create(teacher=self.alice, capacity=1)
        EnrollmentFactory.create(course=course)
        html = self.render_box(self.bob, course)
        self.assertIn("Join the waitlist", html)
        WaitlistEntry.objects.create(course=course, student=self.bob)
        self.assertIn("Leave the waitlist", self.render_box(self.bob, course))

    def test_it_says_paid_enrolment_opens_soon(self) -> None:
        course = CourseFactory.create(teacher=self.alice, paid=True)
        html = self.render_box(self.bob, course)
        self.assertIn("Enrolment opens soon", html)
        self.assertNotIn(reverse("courses:enroll", args=[course.slug]), html)

    def test_it_tells_the_teacher_it_is_their_course(self) -> None:
        course = CourseFactory.create(teacher=self.alice)
        html = self.render_box(self.alice, course)
        self.assertIn("You teach this course", html)
        self.assertIn(reverse("courses:roster", args=[course.slug]), html)
