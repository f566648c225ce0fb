"""Erasing a teacher ends their plan at once, then deletes their Stripe customer; invoices stay."""

from datetime import timedelta

from django.utils import timezone

from billing.models import BillingCustomer, Invoice, PaymentMethod, Subscription
from billing.tests.plan_kit import PlanTestCase
from privacy import deletion
from privacy.models import DeletionRequest
from privacy.tasks import sweep_retention_task


class PlanErasureTests(PlanTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.subscription = self.subscribe(self.alice, self.price("pro", "month", "EUR"))
        self.deliver(self.stripe.billing.take_events())  # the invoice and card mirrored too
        self.customer_id = BillingCustomer.objects.get(teacher=self.alice).stripe_customer_id

    def erase(self) -> DeletionRequest:
        with self.captureOnCommitCallbacks(execute=True):
            request = deletion.request_deletion(user=self.alice)
        DeletionRequest.objects.filter(pk=request.pk).update(
            erase_after=timezone.now() - timedelta(seconds=1)
        )
        with self.captureOnCommitCallbacks(execute=True):
            sweep_retention_task.delay()
        request.refresh_from_db()
        return request

    def test_it_cancels_the_plan_then_deletes_the_customer(self) -> None:
        request = self.erase()
        assert request.state == DeletionRequest.State.COMPLETED, request.error
        calls = [(c["method"], c["path"]) for c in self.stripe.calls if c["method"] == "DELETE"]
        assert calls == [
            ("DELETE", f"/v1/subscriptions/{self.subscription.stripe_subscription_id}"),
            ("DELETE", f"/v1/customers/{self.customer_id}"),
        ]
        at_stripe = self.stripe.billing.subscriptions[self.subscription.stripe_subscription_id]
        assert at_stripe["status"] == "canceled"
        assert self.stripe.billing.customers[self.customer_id]["deleted"] is True
        assert not BillingCustomer.objects.exists()
        assert not PaymentMethod.objects.exists()
        # The plan and its invoice stay for the tax record, without the teacher.
        kept = Subscription.objects.get()
        assert (kept.status, kept.teacher, kept.customer) == ("canceled", None, None)
        assert kept.anonymised_at is not None
        invoice = Invoice.objects.get()
        assert (invoice.teacher, invoice.amount_paid) == (None, 2700)

    def test_a_plan_that_already_ended_is_not_cancelled_again(self) -> None:
        Subscription.objects.update(status=Subscription.Status.CANCELED)
        request = self.erase()
        assert request.state == DeletionRequest.State.COMPLETED, request.error
        paths = [c["path"] for c in self.stripe.calls if c["method"] == "DELETE"]
        assert paths == [f"/v1/customers/{self.customer_id}"]

    def test_stripe_out_of_reach_keeps_everything_for_the_next_try(self) -> None:
        path = f"/v1/subscriptions/{self.subscription.stripe_subscription_id}"
        self.stripe.failing[path] = (503, {"error": {"message": "Unavailable"}})
        request = self.erase()
        assert request.state == DeletionRequest.State.FAILED
        assert "BillingCustomer" in request.error
        assert BillingCustomer.objects.filter(stripe_customer_id=self.customer_id).exists()
        assert not self.stripe.billing.customers[self.customer_id].get("deleted")
        del self.stripe.failing[path]
        with self.captureOnCommitCallbacks(execute=True):
            deletion.erase(request.pk)
        request.refresh_from_db()
        assert request.state == DeletionRequest.State.COMPLETED, request.error
        assert not BillingCustomer.objects.exists()
