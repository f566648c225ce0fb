"""With the mail server down, every flow that emails still answers, and its email arrives once.

Each test runs a flow through its page while the mail backend refuses every
message (tasks run inline, as in the embedded default), checks the person got
their normal answer and nothing was sent, then lets the mail server recover
and the outbox's periodic job run, and checks each queued email arrived
exactly once, the flow's own among them.
"""

from typing import Any

from django.core import mail
from django.test import override_settings
from django.urls import reverse

from accounts.tests.kit import signup_data
from billing.models import Purchase
from billing.tests.fake_stripe import FakeStripe, post_event
from billing.tests.kit import seller
from courses.models import Enrollment, WaitlistEntry
from courses.tests.factories import CourseFactory, EnrollmentFactory
from messaging import services as messaging
from outbox.models import OutboundEmail
from outbox.tests.kit import BrokenMailBackend, mail_down, run_sweep_later
from privacy.models import DeletionRequest, ExportRequest
from tests.base import PASSWORD, LecternTestCase


class MailOutageTests(LecternTestCase):
    def setUp(self) -> None:
        BrokenMailBackend.attempts = 0

    def while_mail_is_down(self, flow: Any) -> Any:
        """Run `flow` with the mail server down, committing as a request does; return the answer."""
        with mail_down(), self.captureOnCommitCallbacks(execute=True):
            answer = flow()
        assert mail.outbox == []
        assert BrokenMailBackend.attempts >= 1, "the flow tried to send nothing"
        assert OutboundEmail.objects.filter(state=OutboundEmail.State.PENDING).exists()
        return answer

    def after_recovery(self, to: str, subject_has: str) -> Any:
        """Let the periodic job send what waited; return the one email to `to` about it."""
        waiting = OutboundEmail.objects.filter(state=OutboundEmail.State.PENDING).count()
        assert run_sweep_later() == waiting
        assert run_sweep_later() == 0  # and later runs send nothing more
        assert len(mail.outbox) == waiting
        assert not OutboundEmail.objects.exclude(state=OutboundEmail.State.SENT).exists()
        ids = [m.extra_headers["Message-ID"] for m in mail.outbox]
        assert len(set(ids)) == len(ids), "an email was sent twice"
        [email] = [m for m in mail.outbox if m.to == [to] and subject_has in m.subject]
        return email

    def test_a_teacher_adds_a_student(self) -> None:
        CourseFactory.create(teacher=self.alice, slug="choir", capacity=2)
        self.login(self.alice)
        response = self.while_mail_is_down(
            lambda: self.client.post(
                reverse("courses:add_student", args=["choir"]), {"email": "bob@example.com"}
            )
        )
        self.assertRedirects(response, reverse("courses:roster", args=["choir"]))
        assert Enrollment.objects.filter(student=self.bob, status="active").exists()
        self.after_recovery("bob@example.com", "You've been added to")

    def test_a_visitor_registers_as_a_guest(self) -> None:
        CourseFactory.create(teacher=self.alice, slug="watercolour", capacity=5)
        response = self.while_mail_is_down(
            lambda: self.client.post(
                reverse("courses:register", args=["watercolour"]),
                {"first_name": "Gina", "last_name": "Guest", "email": "gina@example.org"},
            )
        )
        self.assertContains(response, "Check your inbox")
        email = self.after_recovery("gina@example.org", "choose your password")
        assert "/join/" in email.body

    def test_a_seat_frees_up_and_the_first_waiting_student_is_promoted(self) -> None:
        course = CourseFactory.create(teacher=self.alice, slug="full", capacity=1)
        EnrollmentFactory.create(course=course, student=self.dave)
        WaitlistEntry.objects.create(course=course, student=self.bob)
        self.login(self.dave)
        response = self.while_mail_is_down(
            lambda: self.client.post(reverse("courses:leave", args=["full"]))
        )
        assert response.status_code == 302
        assert Enrollment.objects.filter(course=course, student=self.bob, status="active").exists()
        self.after_recovery("bob@example.com", "A seat is yours in")

    def test_a_student_enrols(self) -> None:
        CourseFactory.create(teacher=self.alice, slug="pottery", capacity=3)
        self.login(self.bob)
        response = self.while_mail_is_down(
            lambda: self.client.post(reverse("courses:enroll", args=["pottery"]))
        )
        self.assertRedirects(response, reverse("courses:course", args=["pottery"]))
        # The teacher's notification of the new student is among the emails that waited.
        self.after_recovery("alice@example.com", "Bob Baker enrolled in")

    def test_an_export_becomes_ready(self) -> None:
        self.login(self.bob)
        response = self.while_mail_is_down(
            lambda: self.client.post(reverse("privacy:export_request"))
        )
        assert response.status_code == 302
        assert ExportRequest.objects.get(user=self.bob).state == ExportRequest.State.READY
        email = self.after_recovery("bob@example.com", "Your data is ready")
        assert "/download/" in email.body

    def test_someone_asks_to_delete_their_account(self) -> None:
        self.login(self.dave)
        response = self.while_mail_is_down(
            lambda: self.client.post(
                reverse("privacy:delete_account"), {"password": PASSWORD, "confirm": "on"}
            )
        )
        assert response.status_code == 302
        assert DeletionRequest.objects.filter(user=self.dave, state="pending").exists()
        email = self.after_recovery("dave@example.com", "Your account will be deleted")
        assert "/account/deletion/cancel/" in email.body

    def test_a_message_notifies_its_reader(self) -> None:
        course = CourseFactory.create(teacher=self.alice, slug="studio", title="Studio")
        EnrollmentFactory.create(course=course, student=self.bob)
        channel = messaging.get_or_create_channel(course=course)
        self.login(self.alice)
        response = self.while_mail_is_down(
            lambda: self.client.post(
                reverse("messaging:post", args=[channel.pk]), {"body": "Class moves to Thursday"}
            )
        )
        assert response.status_code in (200, 302)
        self.after_recovery("bob@example.com", "Studio")

    def test_someone_signs_up(self) -> None:
        response = self.while_mail_is_down(
            lambda: self.client.post(reverse("account_signup"), signup_data())
        )
        self.assertRedirects(
            response, reverse("account_email_verification_sent"), fetch_redirect_response=False
        )
        email = self.after_recovery("nora@example.com", "Confirm your email address")
        assert "/accounts/confirm-email/" in email.body

    def test_someone_resets_a_forgotten_password(self) -> None:
        response = self.while_mail_is_down(
            lambda: self.client.post(
                reverse("account_reset_password"), {"email": "bob@example.com"}
            )
        )
        self.assertRedirects(
            response, reverse("account_reset_password_done"), fetch_redirect_response=False
        )
        email = self.after_recovery("bob@example.com", "Reset your password")
        assert "/accounts/password/reset/key/" in email.body

    def test_a_student_pays_for_a_course(self) -> None:
        seller(self.alice, account_id="acct_test_alice")
        CourseFactory.create(teacher=self.alice, slug="kiln", price_amount=9000)
        with FakeStripe() as stripe, override_settings(STRIPE_API_BASE=stripe.url):
            stripe.accounts["acct_test_alice"] = {"id": "acct_test_alice", "charges_enabled": True}
            self.login(self.bob).post(reverse("billing:checkout", args=["kiln"]))
            purchase = Purchase.objects.get()
            session = stripe.pay(purchase.checkout_session_id)
            event = stripe.event("checkout.session.completed", session)
            response = self.while_mail_is_down(lambda: post_event(self.client, event))
        assert response.status_code == 200
        assert Enrollment.objects.filter(student=self.bob, status="active").exists()
        receipt = self.after_recovery(self.bob.email, "Your receipt")
        assert "€90.00" in receipt.body
