"""The teacher's roster: who is enrolled and waiting, adding or inviting by email, removing."""

from datetime import timedelta

from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from courses.models import Enrollment, WaitlistEntry
from courses.tests.factories import CourseFactory, EnrollmentFactory
from courses.tests.test_enrolment_guest import invitation_path
from tests.base import LecternTestCase, StudentFactory, assert_constant_queries

NEW_PASSWORD = "a fresh and long passphrase 42"


class RosterPageTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, slug="choir", capacity=2)
        self.url = reverse("courses:roster", args=["choir"])

    def test_it_lists_students_and_the_waitlist_in_order(self) -> None:
        EnrollmentFactory.create(course=self.course, student=self.bob)
        EnrollmentFactory.create(course=self.course, student=self.dave)
        first, second = StudentFactory.create_batch(2)
        WaitlistEntry.objects.create(course=self.course, student=first)
        WaitlistEntry.objects.create(course=self.course, student=second)
        self.login(self.alice)
        response = self.client.get(self.url)
        self.assertContains(response, "bob@example.com")
        self.assertContains(response, "Dave Dunn")
        self.assertContains(response, "Full")
        html = response.content.decode()
        assert html.index(first.email) < html.index(second.email)

    def test_it_teaches_what_to_do_when_empty(self) -> None:
        self.login(self.alice)
        self.assertContains(self.client.get(self.url), "No students yet")

    def test_it_hides_students_who_left(self) -> None:
        EnrollmentFactory.create(course=self.course, student=self.bob, status="left")
        self.login(self.alice)
        self.assertNotContains(self.client.get(self.url), "bob@example.com")

    def test_it_is_404_for_another_teacher_and_students(self) -> None:
        for person in (self.carol, self.bob, self.staff):
            self.login(person)
            assert self.client.get(self.url).status_code == 404

    def test_it_runs_the_same_queries_for_10_and_1000_students(self) -> None:
        big = CourseFactory.create(teacher=self.alice, slug="big", capacity=None)
        self.login(self.alice)

        def add_students(n: int) -> None:
            students = User.objects.bulk_create(
                User(email=f"s{big.pk}-{i}-{User.objects.count()}@example.com", first_name="S")
                for i in range(n)
            )
            held = {
                "status": Enrollment.Status.HELD,
                "hold_reason": Enrollment.HoldReason.GUEST,
                "hold_expires_at": timezone.now() + timedelta(days=1),
            }
            Enrollment.objects.bulk_create(
                Enrollment(course=big, student=s, **(held if i % 10 == 0 else {}))
                for i, s in enumerate(students)
            )
            WaitlistEntry.objects.bulk_create(
                WaitlistEntry(course=big, student=s) for s in students[:5]
            )

        assert_constant_queries(
            self, reverse("courses:roster", args=["big"]), add_students, budget=13
        )


class AddStudentTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, slug="choir", capacity=2)
        self.url = reverse("courses:add_student", args=["choir"])
        self.login(self.alice)

    def add(self, **data: str):
        with self.captureOnCommitCallbacks(execute=True):
            return self.client.post(self.url, data)

    def test_it_enrols_an_existing_account_and_tells_them(self) -> None:
        response = self.add(email="Bob@Example.com")
        self.assertRedirects(response, reverse("courses:roster", args=["choir"]))
        assert Enrollment.objects.filter(
            course=self.course, student=self.bob, status="active"
        ).exists()
        assert mail.outbox[0].to == ["bob@example.com"]
        assert "You've been added to" in mail.outbox[0].subject
        assert "/courses/choir/" in mail.outbox[0].body

    def test_it_invites_an_unknown_address_and_the_link_works(self) -> None:
        self.add(email="newbie@example.org", first_name="Nia", last_name="New")
        nia = User.objects.get(email="newbie@example.org")
        assert nia.get_full_name() == "Nia New"
        assert not EmailAddress.objects.get(user=nia).verified
        assert Enrollment.objects.filter(course=self.course, student=nia).exists()
        message = mail.outbox[0]
        assert message.to == ["newbie@example.org"]
        visitor = self.new_client()
        page = visitor.get(invitation_path(message), follow=True)
        self.assertContains(page, "Welcome, Nia")
        visitor.post(
            page.redirect_chain[-1][0], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
        )
        visitor.logout()
        response = visitor.post(
            reverse("account_login"), {"login": "newbie@example.org", "password": NEW_PASSWORD}
        )
        assert response.status_code == 302
        assert int(visitor.session["_auth_user_id"]) == nia.pk

    def test_it_says_when_someone_is_already_enrolled(self) -> None:
        EnrollmentFactory.create(course=self.course, student=self.bob)
        response = self.client.post(self.url, {"email": "bob@example.com"}, follow=True)
        self.assertContains(response, "already enrolled")
        assert Enrollment.objects.count() == 1

    def test_it_refuses_beyond_capacity_and_keeps_nothing(self) -> None:
        EnrollmentFactory.create_batch(2, course=self.course)
        response = self.add(email="late@example.org")
        self.assertContains(response, "This course is full", status_code=400)
        self.assertContains(response, 'value="late@example.org"', status_code=400)
        assert not User.objects.filter(email="late@example.org").exists()
        assert mail.outbox == []

    def test_it_refuses_the_teacher_own_address(self) -> None:
        response = self.add(email="alice@example.com")
        self.assertContains(response, "your own address", status_code=400)

    def test_it_refuses_a_malformed_address(self) -> None:
        assert self.add(email="nope").status_code == 400
        assert not Enrollment.objects.exists()

    def test_it_adds_to_a_draft_before_it_opens(self) -> None:
        CourseFactory.create(teacher=self.alice, slug="soon", draft=True)
        self.client.post(
            reverse("courses:add_student", args=["soon"]), {"email": "bob@example.com"}
        )
        assert Enrollment.objects.filter(course__slug="soon", student=self.bob).exists()

    def test_it_refuses_other_teachers(self) -> None:
        self.login(self.carol)
        assert self.add(email="bob@example.com").status_code == 404
        assert not Enrollment.objects.exists()


class RemoveStudentTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, slug="choir", capacity=1)
        EnrollmentFactory.create(course=self.course, student=self.bob)
        self.url = reverse("courses:remove_student", args=["choir", self.bob.pk])

    def test_it_asks_before_removing(self) -> None:
        self.login(self.alice)
        response = self.client.get(self.url)
        self.assertContains(response, "Remove Bob Baker?")
        assert Enrollment.objects.filter(student=self.bob, status="active").exists()

    def test_it_removes_and_gives_the_seat_to_the_first_waiting(self) -> None:
        WaitlistEntry.objects.create(course=self.course, student=self.dave)
        self.login(self.alice)
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(self.url)
        self.assertRedirects(response, reverse("courses:roster", args=["choir"]))
        assert Enrollment.objects.get(student=self.bob).status == "removed"
        assert Enrollment.objects.get(student=self.dave).status == "active"
        assert mail.outbox[0].to == ["dave@example.com"]

    def test_it_removes_someone_from_the_waitlist(self) -> None:
        WaitlistEntry.objects.create(course=self.course, student=self.dave)
        self.login(self.alice)
        self.client.post(reverse("courses:remove_student", args=["choir", self.dave.pk]))
        assert not WaitlistEntry.objects.exists()

    def test_it_is_404_for_someone_not_in_the_course(self) -> None:
        self.login(self.alice)
        url = reverse("courses:remove_student", args=["choir", self.carol.pk])
        assert self.client.post(url).status_code == 404

    def test_it_is_404_for_another_teacher(self) -> None:
        self.login(self.carol)
        assert self.client.post(self.url).status_code == 404
        assert Enrollment.objects.get(student=self.bob).status == "active"
