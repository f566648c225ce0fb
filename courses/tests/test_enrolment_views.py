"""The enrol, waitlist and enrol-page views behind the storefront's enrol box."""

from django.core import mail
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from accounts.models import User
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
        assert Enrollment.objects.filter(
            course=self.course, student=self.bob, status="active"
        ).exists()

    def test_it_shows_the_enrol_button_on_its_own_page(self) -> None:
        self.login(self.bob)
        response = self.client.get(self.url)
        self.assertContains(response, f'action="{self.url}"')
        self.assertContains(response, ">Enrol</button>", html=False)
        self.assertContains(response, "1 seat left")

    def test_it_sends_an_enrolled_student_to_the_course(self) -> None:
        EnrollmentFactory.create(course=self.course, student=self.bob)
        self.login(self.bob)
        self.assertRedirects(self.client.get(self.url), reverse("courses:course", args=["pottery"]))

    def test_it_asks_visitors_to_log_in(self) -> None:
        response = self.client.post(self.url)
        assert response.status_code == 302
        assert reverse("account_login") in response["Location"]
        assert not Enrollment.objects.exists()

    def test_it_explains_a_full_course(self) -> None:
        EnrollmentFactory.create(course=self.course)
        self.login(self.bob)
        response = self.client.post(self.url, follow=True)
        self.assertContains(response, "This course is full")
        self.assertContains(response, "Join the waitlist")
        assert not Enrollment.objects.filter(student=self.bob).exists()

    def test_it_refuses_a_paid_course_with_a_message(self) -> None:
        CourseFactory.create(teacher=self.alice, paid=True, slug="paid")
        self.login(self.bob)
        response = self.client.post(reverse("courses:enroll", args=["paid"]), follow=True)
        self.assertContains(response, "open for enrolment yet")
        assert not Enrollment.objects.filter(student=self.bob).exists()

    def test_it_hides_a_draft_from_students(self) -> None:
        CourseFactory.create(teacher=self.alice, draft=True, slug="secret")
        self.login(self.bob)
        url = reverse("courses:enroll", args=["secret"])
        assert self.client.post(url).status_code == 404
        assert self.client.get(url).status_code == 404

    def test_it_hides_an_archived_course(self) -> None:
        CourseFactory.create(teacher=self.alice, archived=True, slug="over")
        self.login(self.bob)
        assert self.client.post(reverse("courses:enroll", args=["over"])).status_code == 404

    def test_it_hides_the_course_of_a_teacher_whose_account_is_off(self) -> None:
        carol_course = CourseFactory.create(teacher=self.carol, slug="gone")
        User.objects.filter(pk=self.carol.pk).update(is_active=False)
        self.login(self.bob)
        for name in ("courses:enroll", "courses:join_waitlist", "storefront:course"):
            method = self.client.get if name == "storefront:course" else self.client.post
            assert method(reverse(name, args=["gone"])).status_code == 404, name
        assert not Enrollment.objects.filter(course=carol_course).exists()

    def test_it_refuses_the_teacher_their_own_course(self) -> None:
        self.login(self.alice)
        response = self.client.post(self.url, follow=True)
        self.assertContains(response, "You teach this course")
        assert not Enrollment.objects.exists()

    def test_it_rejects_other_methods(self) -> None:
        self.login(self.bob)
        assert self.client.put(self.url).status_code == 405


class WaitlistViewTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, capacity=1, slug="full")
        self.seat = EnrollmentFactory.create(course=self.course, student=self.dave)

    def test_it_joins_the_waitlist(self) -> None:
        self.login(self.bob)
        response = self.client.post(reverse("courses:join_waitlist", args=["full"]), follow=True)
        self.assertContains(response, "You're on the waitlist")
        self.assertContains(response, "Leave the waitlist")
        assert WaitlistEntry.objects.filter(course=self.course, student=self.bob).exists()

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
        assert response.status_code == 302
        assert not WaitlistEntry.objects.exists()

    def test_it_answers_404_to_leaving_a_waitlist_you_are_not_on(self) -> None:
        self.login(self.bob)
        response = self.client.post(reverse("courses:leave_waitlist", args=["full"]))
        assert response.status_code == 404

    def test_it_promotes_and_emails_when_the_seat_holder_leaves(self) -> None:
        WaitlistEntry.objects.create(course=self.course, student=self.bob)
        self.login(self.dave)
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(reverse("courses:leave", args=["full"]))
        assert Enrollment.objects.filter(
            course=self.course, student=self.bob, status="active"
        ).exists()
        assert [m.to for m in mail.outbox] == [["bob@example.com"]]


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
        assert reverse("courses:register", args=[course.slug]) in html
        assert 'name="email"' in html
        assert "Log in to enrol" in html

    def test_it_offers_a_student_one_click(self) -> None:
        course = CourseFactory.create(teacher=self.alice)
        html = self.render_box(self.bob, course)
        assert reverse("courses:enroll", args=[course.slug]) in html
        assert 'name="email"' not in html

    def test_it_sends_an_enrolled_student_to_the_course(self) -> None:
        course = CourseFactory.create(teacher=self.alice)
        EnrollmentFactory.create(course=course, student=self.bob)
        assert "Go to course" in self.render_box(self.bob, course)

    def test_it_offers_the_waitlist_when_full(self) -> None:
        course = CourseFactory.create(teacher=self.alice, capacity=1)
        EnrollmentFactory.create(course=course)
        html = self.render_box(self.bob, course)
        assert "Join the waitlist" in html
        WaitlistEntry.objects.create(course=course, student=self.bob)
        assert "Leave the waitlist" in self.render_box(self.bob, course)

    def test_it_says_paid_enrolment_opens_soon(self) -> None:
        course = CourseFactory.create(teacher=self.alice, paid=True)
        html = self.render_box(self.bob, course)
        assert "open for enrolment yet" in html
        assert reverse("courses:enroll", args=[course.slug]) not in html

    def test_it_tells_the_teacher_it_is_their_course(self) -> None:
        course = CourseFactory.create(teacher=self.alice)
        html = self.render_box(self.alice, course)
        assert "You teach this course" in html
        assert reverse("courses:roster", args=[course.slug]) in html
