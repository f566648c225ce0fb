"""What the plan tests share: Stripe's stand-in with the catalogue synced, and events delivered.

class MyTests(PlanTestCase):
    def test_it(self) -> None:
        url = self.subscribe(self.alice, self.price("pro", "month", "EUR"))
        ...
        self.deliver(self.stripe.billing.take_events(), seed=3)
"""

import random
import time
from datetime import UTC, datetime
from typing import Any

import time_machine
from django.core import mail
from django.utils import timezone

from accounts.models import User
from billing import webhooks
from billing.models import (
    BillingCustomer,
    Invoice,
    PaymentMethod,
    PlanPrice,
    StripeEvent,
    Subscription,
)
from billing.services import catalogue, plans, subscriptions
from billing.tests.fake_stripe import post_event, serve_for
from outbox.models import OutboundEmail
from tests.base import LecternTestCase

FAILED_EMAILS = "plan-payment-failed:"


class PlanTestCase(LecternTestCase):
    """The catalogue synced with a running FakeStripe; the clock stands still until moved."""

    def setUp(self) -> None:
        self.stripe = serve_for(self)
        # Whole seconds, like Stripe's clock; moved on with `self.clock.shift(...)`. It starts
        # ahead of the database's own clock, which stamps a stored event due "now": an event
        # posted at once must already be due by the time the test's clock says.
        start = datetime.fromtimestamp(int(time.time()) + 600, tz=UTC)
        traveller = time_machine.travel(start, tick=False)
        self.clock = traveller.start()
        self.addCleanup(traveller.stop)
        catalogue.sync_plans()

    def price(self, code: str, interval: str = "month", currency: str = "EUR") -> PlanPrice:
        return PlanPrice.objects.select_related("plan").get(
            plan__code=code, interval=interval, currency=currency
        )

    def subscribe(self, teacher: User, price: PlanPrice) -> Subscription:
        """Check out and pay at the stand-in, then read the subscription back (the return page)."""
        url = subscriptions.start_checkout(
            teacher=teacher, price=price, base_url="http://testserver"
        )
        session = self.stripe.sessions[url.rsplit("/", 1)[1]]
        self.stripe.billing.complete_checkout(session)
        subscription = subscriptions.finish_checkout(teacher=teacher, session_id=session["id"])
        assert subscription is not None
        return subscription

    def stripe_subscription(self, teacher: User) -> dict[str, Any]:
        customer = BillingCustomer.objects.get(teacher=teacher).stripe_customer_id
        return next(
            s for s in self.stripe.billing.subscriptions.values() if s["customer"] == customer
        )

    # --- Delivering events --------------------------------------------------------------------

    def post(self, event: dict[str, Any]) -> None:
        """Post one signed event and let it be processed before the next one arrives."""
        with self.captureOnCommitCallbacks(execute=True):
            response = post_event(self.client, event)
        assert response.status_code == 200, response.content

    def process_again(self, event_id: str) -> None:
        """Run an event's handler a second time, as a replay or a retried task does."""
        StripeEvent.objects.filter(event_id=event_id).update(
            status=StripeEvent.Status.PENDING, next_attempt_at=timezone.now(), attempts=0
        )
        with self.captureOnCommitCallbacks(execute=True):
            outcome = webhooks.process(event_id)
        assert outcome.status == "done", StripeEvent.objects.get(event_id=event_id).last_error

    def deliver(self, events: list[dict[str, Any]], *, seed: int | None = None) -> None:
        """Deliver `events` (in `seed`'s shuffled order, or as given), each twice, then run each
        handler once more in another order."""
        order = list(events)
        rng = random.Random(seed)
        if seed is not None:
            rng.shuffle(order)
        for event in order:
            self.post(event)
            self.post(event)  # Stripe sends it again: stored once
        if seed is not None:
            rng.shuffle(order)
        for event in order:
            self.process_again(event["id"])
        failed = StripeEvent.objects.exclude(status=StripeEvent.Status.DONE)
        assert not failed.exists(), list(failed.values_list("type", "last_error"))

    def forget_mirror(self) -> None:
        """Empty Lectern's copy of what Stripe holds, keeping the customer rows we made."""
        Subscription.objects.all().delete()
        Invoice.objects.all().delete()
        PaymentMethod.objects.all().delete()
        StripeEvent.objects.all().delete()
        OutboundEmail.objects.all().delete()
        BillingCustomer.objects.update(stripe_state_at=None, email="", name="")
        mail.outbox.clear()

    def mirror(self, teacher: User) -> dict[str, Any]:
        """Lectern's copy, as comparable values (times Lectern stamps on its own reads left out)."""
        subscription_fields = [
            "stripe_subscription_id",
            "plan__code",
            "price_id",
            "interval",
            "currency",
            "status",
            "current_period_end",
            "cancel_at_period_end",
            "canceled_at",
            "ended_at",
            "pending_plan__code",
            "pending_price_id",
            "pending_change_at",
            "stripe_schedule_id",
            "payment_failed_at",
            "teacher_id",
        ]
        invoice_fields = [
            "stripe_invoice_id",
            "number",
            "status",
            "billing_reason",
            "currency",
            "amount_due",
            "amount_paid",
            "paid_at",
            "period_start",
            "period_end",
            "hosted_invoice_url",
            "invoice_pdf",
            "subscription__stripe_subscription_id",
            "teacher_id",
        ]
        card_fields = ["stripe_payment_method_id", "brand", "last4", "exp_year", "is_default"]
        return {
            "plan": plans.plan_of(teacher).code,
            "subscriptions": list(
                Subscription.objects.order_by("created_at", "stripe_subscription_id").values(
                    *subscription_fields
                )
            ),
            "invoices": list(
                Invoice.objects.order_by("issued_at", "stripe_invoice_id").values(*invoice_fields)
            ),
            "cards": list(
                PaymentMethod.objects.order_by("stripe_payment_method_id").values(*card_fields)
            ),
            "customer": list(BillingCustomer.objects.values("stripe_customer_id", "email", "name")),
        }

    def failure_emails(self) -> list[str]:
        return list(
            OutboundEmail.objects.filter(key__startswith=FAILED_EMAILS).values_list(
                "key", flat=True
            )
        )
