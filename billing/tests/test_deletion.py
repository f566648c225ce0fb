"""A teacher's account can't be deleted while their sales aren't settled; buyers are unnamed."""

from datetime import timedelta
from typing import Any

from django.core import mail
from django.urls import reverse
from django.utils import timezone

from billing.models import Purchase
from billing.tests.fake_stripe import serve_for
from billing.tests.kit import seller
from courses.tests.factories import CourseFactory
from privacy import deletion
from privacy.models import DeletionRequest
from privacy.tasks import sweep_retention_task
from tests.base import PASSWORD, LecternTestCase


class SellerDeletionTests(LecternTestCase):
    def setUp(self) -> None:
        self.stripe = serve_for(self)
        self.account = seller(self.alice, account_id="acct_test_alice")
        course = CourseFactory.create(teacher=self.alice, price_amount=5000)
        self.sale = Purchase.objects.create(
            student=self.bob,
            teacher=self.alice,
            course=course,
            course_title=course.title,
            connect_account_id="acct_test_alice",
            gross_amount=5000,
            amount=5000,
            currency="EUR",
            status=Purchase.Status.PAID,
            paid_at=timezone.now(),
            payment_intent_id="pi_test_sold",
        )

    def delete(self) -> Any:
        return self.login(self.alice).post(
            reverse("privacy:delete_account"), {"password": PASSWORD, "confirm": "on"}
        )

    def test_an_open_dispute_stops_the_deletion_and_says_why(self) -> None:
        Purchase.objects.filter(pk=self.sale.pk).update(status=Purchase.Status.DISPUTED)
        page = self.login(self.alice).get(reverse("privacy:delete_account"))
        self.assertContains(page, "A payment is disputed.")
        self.assertNotContains(page, "Delete my account</button>")
        response = self.delete()
        self.assertContains(response, "A payment is disputed.", status_code=400)
        assert not DeletionRequest.objects.exists()
        self.alice.refresh_from_db()
        assert self.alice.is_active

    def test_money_still_in_the_stripe_account_stops_the_deletion(self) -> None:
        self.stripe.balances["acct_test_alice"] = 4750
        response = self.delete()
        self.assertContains(response, "€47.50 is waiting to be paid out", status_code=400)
        assert not DeletionRequest.objects.exists()
        balance_call = next(c for c in self.stripe.calls if c["path"] == "/v1/balance")
        assert balance_call["headers"]["Stripe-Account"] == "acct_test_alice"

    def test_a_settled_teacher_can_delete_and_the_sale_stays_for_the_tax_record(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            assert self.delete().status_code == 302
        assert DeletionRequest.objects.get().user == self.alice

    def test_a_scheduled_erasure_waits_while_a_dispute_is_open(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            request = deletion.request_deletion(user=self.alice)
        Purchase.objects.filter(pk=self.sale.pk).update(status=Purchase.Status.DISPUTED)
        DeletionRequest.objects.filter(pk=request.pk).update(
            erase_after=timezone.now() - timedelta(seconds=1)
        )
        with self.captureOnCommitCallbacks(execute=True):
            sweep_retention_task.delay()
        request.refresh_from_db()
        assert request.state == DeletionRequest.State.PENDING
        assert request.erase_after > timezone.now() + timedelta(hours=23)
        assert "disputed" in request.error


class BuyerDeletionTests(LecternTestCase):
    def test_erasing_a_buyer_keeps_the_sale_without_their_name(self) -> None:
        course = CourseFactory.create(teacher=self.alice, price_amount=5000)
        sale = Purchase.objects.create(
            student=self.bob,
            teacher=self.alice,
            course=course,
            course_title=course.title,
            connect_account_id="acct_test_alice",
            gross_amount=5000,
            amount=5000,
            currency="EUR",
            status=Purchase.Status.PAID,
        )
        with self.captureOnCommitCallbacks(execute=True):
            request = deletion.request_deletion(user=self.bob)
        DeletionRequest.objects.filter(pk=request.pk).update(
            erase_after=timezone.now() - timedelta(seconds=1)
        )
        mail.outbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            sweep_retention_task.delay()
        sale.refresh_from_db()
        assert sale.student is None
        assert sale.anonymised_at is not None
        assert (sale.amount, sale.course_title) == (5000, course.title)
