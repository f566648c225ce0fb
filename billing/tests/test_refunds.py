"""A teacher refunds a sale from its page; disputes mark it and tell them."""

from typing import Any

from django.core import mail
from django.urls import reverse

from billing.models import Purchase, Refund
from billing.tests.fake_stripe import post_event, serve_for
from billing.tests.kit import seller
from courses.models import Enrollment
from courses.tests.factories import CourseFactory
from notifications.models import Notification
from tests.base import LecternTestCase


class RefundTests(LecternTestCase):
    def setUp(self) -> None:
        self.stripe = serve_for(self)
        seller(self.alice, account_id="acct_test_alice")
        self.stripe.accounts["acct_test_alice"] = {"id": "acct_test_alice", "charges_enabled": True}
        self.course = CourseFactory.create(teacher=self.alice, slug="kiln", price_amount=12000)
        self.new_client(self.bob).post(reverse("billing:checkout", args=["kiln"]))
        self.purchase = Purchase.objects.get()
        session = self.stripe.pay(self.purchase.checkout_session_id)
        with self.captureOnCommitCallbacks(execute=True):
            post_event(self.client, self.stripe.event("checkout.session.completed", session))
        self.purchase.refresh_from_db()
        self.teacher = self.new_client(self.alice)

    def refund(self, **data: Any) -> Any:
        with self.captureOnCommitCallbacks(execute=True):
            return self.teacher.post(reverse("billing:sale", args=[self.purchase.pk]), data)

    def test_the_sale_page_shows_what_the_teacher_keeps(self) -> None:
        page = self.teacher.get(reverse("billing:sale", args=[self.purchase.pk]))
        self.assertContains(page, "€120.00")
        self.assertContains(page, "€6.00")  # the platform's 5%
        self.assertContains(page, "€114.00")

    def test_a_full_refund_ends_the_enrolment_and_emails_the_student_once(self) -> None:
        response = self.refund(amount="120.00")
        assert response.status_code == 302
        self.purchase.refresh_from_db()
        assert (self.purchase.status, self.purchase.refunded_amount) == ("refunded", 12000)
        assert Enrollment.objects.get(student=self.bob).status == "left"
        call = next(c for c in self.stripe.calls if c["path"] == "/v1/refunds")
        assert call["params"]["amount"] == "12000"
        assert call["params"]["reverse_transfer"] == "true"
        assert call["params"]["refund_application_fee"] == "true"
        assert call["headers"]["Idempotency-Key"] == f"refund:{self.purchase.pk}:1"
        # Stripe's own events about the refund arrive afterwards and change nothing more.
        refund = next(iter(self.stripe.refunds.values()))
        charge = self.stripe.charges[refund["charge"]]
        with self.captureOnCommitCallbacks(execute=True):
            post_event(self.client, self.stripe.event("charge.refunded", charge))
            post_event(self.client, self.stripe.event("refund.updated", refund))
        assert Refund.objects.count() == 1
        refund_mails = [m for m in mail.outbox if "Refund of €120.00" in m.subject]
        assert len(refund_mails) == 1
        assert "enrolment in the course has ended" in refund_mails[0].body

    def test_a_partial_refund_keeps_the_seat(self) -> None:
        self.refund(amount="20")
        self.purchase.refresh_from_db()
        assert (self.purchase.status, self.purchase.refunded_amount) == ("partially_refunded", 2000)
        assert Enrollment.objects.get(student=self.bob).status == "active"

    def test_a_full_refund_can_leave_the_student_in_the_course(self) -> None:
        self.refund(amount="120", keep_access="on")
        assert Enrollment.objects.get(student=self.bob).status == "active"

    def test_more_than_was_paid_is_refused_with_a_message(self) -> None:
        response = self.refund(amount="500")
        self.assertContains(response, "At most 120.00 EUR", status_code=400)
        response = self.refund(amount="1e309")
        assert response.status_code == 400
        response = self.refund(amount="-3")
        assert response.status_code == 400
        assert not Refund.objects.exists()

    def test_a_refund_stripe_refuses_leaves_the_purchase_as_it_was(self) -> None:
        before = Purchase.objects.filter(pk=self.purchase.pk).values().get()
        self.stripe.fail_next["/v1/refunds"] = (
            400,
            {"error": {"type": "invalid_request_error", "message": "Charge already disputed"}},
        )
        response = self.refund(amount="120", keep_access="on")
        self.assertContains(response, "Charge already disputed", status_code=400)
        assert Purchase.objects.filter(pk=self.purchase.pk).values().get() == before
        # The attempt itself is on record, failed, under the key Stripe was sent.
        failed = Refund.objects.get()
        assert (failed.status, failed.key) == ("failed", f"refund:{self.purchase.pk}:1")
        # The next attempt is a new refund with a key of its own, and its choice is kept.
        assert self.refund(amount="120", keep_access="on").status_code == 302
        self.purchase.refresh_from_db()
        assert (self.purchase.status, self.purchase.keep_access_on_refund) == ("refunded", True)
        assert Enrollment.objects.get(student=self.bob).status == "active"

    def test_the_charge_event_before_stripes_answer_follows_the_teachers_choice(self) -> None:
        """Stripe's charge.refunded can arrive while the refund request still waits for its answer.

        The event may not list the charge's refunds: the pending refund row holds the choice.
        """
        Refund.objects.create(
            purchase=self.purchase,
            key=f"refund:{self.purchase.pk}:1",
            amount=12000,
            currency="eur",
            status=Refund.Status.PENDING,
            end_access=False,
        )
        charge_id = self.stripe.intents[self.purchase.payment_intent_id]["latest_charge"]
        self.stripe.refund(charge_id, 12000, {"refund_key": f"refund:{self.purchase.pk}:1"})
        charge = {**self.stripe.charges[charge_id], "refunds": {"object": "list", "data": []}}
        with self.captureOnCommitCallbacks(execute=True):
            post_event(self.client, self.stripe.event("charge.refunded", charge))
        self.purchase.refresh_from_db()
        assert self.purchase.status == "refunded"
        assert Enrollment.objects.get(student=self.bob).status == "active"

    def test_a_refund_made_in_the_stripe_dashboard_arrives_by_webhook(self) -> None:
        charge_id = self.stripe.intents[self.purchase.payment_intent_id]["latest_charge"]
        refund = self.stripe.refund(charge_id, 12000)
        with self.captureOnCommitCallbacks(execute=True):
            post_event(self.client, self.stripe.event("refund.created", refund))
        self.purchase.refresh_from_db()
        assert self.purchase.status == "refunded"
        assert Enrollment.objects.get(student=self.bob).status == "left"

    def test_another_teachers_sale_is_not_found(self) -> None:
        other = self.new_client(self.carol)
        assert other.get(reverse("billing:sale", args=[self.purchase.pk])).status_code == 404
        assert (
            other.post(
                reverse("billing:sale", args=[self.purchase.pk]), {"amount": "1"}
            ).status_code
            == 404
        )
        assert not Refund.objects.exists()

    def test_a_dispute_marks_the_sale_and_tells_the_teacher(self) -> None:
        dispute = {
            "id": "dp_test_1",
            "object": "dispute",
            "payment_intent": self.purchase.payment_intent_id,
            "status": "needs_response",
        }
        with self.captureOnCommitCallbacks(execute=True):
            post_event(self.client, self.stripe.event("charge.dispute.created", dispute))
        self.purchase.refresh_from_db()
        assert self.purchase.status == "disputed"
        assert Notification.objects.filter(recipient=self.alice, title__startswith="A payment is")
        closed = {**dispute, "status": "won"}
        with self.captureOnCommitCallbacks(execute=True):
            post_event(self.client, self.stripe.event("charge.dispute.closed", closed))
        self.purchase.refresh_from_db()
        assert self.purchase.status == "paid"
