"""A teacher's plan from checkout to cancellation, mirrored from Stripe's events in any order.

Each test plays one stretch of a subscription's life against the stand-in
(which records the events Stripe would send), checks what Lectern shows right
after the change made here (read back from Stripe), then forgets its copy and
rebuilds it from the events alone: in Stripe's order, then shuffled, each
delivered twice and processed twice. Every order must end in the same state.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from django.core import mail
from django.utils import timezone

from billing.models import Invoice, Purchase, StripeEvent, Subscription
from billing.services import plans, subscriptions
from billing.tests.plan_kit import PlanTestCase

SEEDS = (1, 2, 3, 4)


class LifecycleTests(PlanTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.pro = self.price("pro", "month", "EUR")
        self.studio = self.price("studio", "month", "EUR")
        self.pro_yearly = self.price("pro", "year", "EUR")

    # --- The stretches of a subscription's life ---------------------------------------------

    def checkout(self) -> Subscription:
        subscription = self.subscribe(self.alice, self.pro)
        self.clock.shift(timedelta(hours=1))
        return subscription

    def upgrade(self) -> Subscription:
        self.checkout()
        changed = subscriptions.change_plan(teacher=self.alice, price=self.studio)
        self.clock.shift(timedelta(hours=1))
        return changed

    def downgrade(self) -> Subscription:
        self.upgrade()
        changed = subscriptions.change_plan(teacher=self.alice, price=self.pro_yearly)
        self.clock.shift(timedelta(hours=1))
        return changed

    def period_end(self) -> int:
        return int(self.stripe_subscription(self.alice)["items"]["data"][0]["current_period_end"])

    def move_to(self, seconds: int) -> None:
        self.clock.move_to(datetime.fromtimestamp(seconds, tz=UTC))

    def fail_renewal(self) -> dict[str, Any]:
        """The downgrade applies at the period's end, and its first payment fails twice."""
        self.downgrade()
        self.move_to(self.period_end())
        renewed = self.stripe.billing.renew(self.stripe_subscription(self.alice)["id"], pay=False)
        self.clock.shift(timedelta(days=3))
        self.stripe.billing.retry(renewed["latest_invoice"], pay=False)
        self.clock.shift(timedelta(days=2))
        return renewed

    def recover(self) -> dict[str, Any]:
        renewed = self.fail_renewal()
        self.stripe.billing.retry(renewed["latest_invoice"], pay=True)
        self.clock.shift(timedelta(hours=1))
        return renewed

    # --- Replaying the events ------------------------------------------------------------------

    def rebuilt(self) -> tuple[dict[str, Any], list[list[str]]]:
        """Forget the copy and rebuild it from the events taken from the stand-in: in Stripe's
        order, then shuffled. Every order must end in the same state; return it, and each
        run's payment-failure emails."""
        events = self.stripe.billing.take_events()
        runs = []
        for seed in (None, *SEEDS):
            self.forget_mirror()
            self.deliver(events, seed=seed)
            runs.append((self.mirror(self.alice), self.failure_emails()))
        expected = runs[0][0]
        for seed, (state, _) in zip(SEEDS, runs[1:], strict=True):
            assert state == expected, f"shuffled with seed {seed}"
        return expected, [emails for _, emails in runs]

    # --- The tests ----------------------------------------------------------------------------

    def test_a_checkout_gives_the_plan_its_invoice_and_card(self) -> None:
        subscription = self.checkout()
        assert (subscription.plan.code, subscription.interval, subscription.currency) == (
            "pro",
            "month",
            "EUR",
        )
        assert subscription.status == "active"
        assert plans.plan_of(self.alice).code == "pro"
        shown = self.mirror(self.alice)
        expected, _ = self.rebuilt()
        assert expected["subscriptions"] == shown["subscriptions"]
        invoice = Invoice.objects.get()
        assert (invoice.status, invoice.amount_paid, invoice.currency) == ("paid", 2700, "EUR")
        assert invoice.number == "LECT-0001"
        assert invoice.hosted_invoice_url.endswith(invoice.stripe_invoice_id)
        assert invoice.invoice_pdf.endswith(".pdf")
        card = expected["cards"][0]
        assert (card["brand"], card["last4"]) == ("visa", "4242")
        assert expected["customer"][0]["email"] == self.alice.email

    def test_an_upgrade_applies_now_with_a_prorated_invoice(self) -> None:
        changed = self.upgrade()
        assert (changed.plan.code, changed.pending_plan) == ("studio", None)
        shown = self.mirror(self.alice)
        expected, _ = self.rebuilt()
        assert expected["subscriptions"] == shown["subscriptions"]
        assert expected["plan"] == "studio"
        reasons = [i["billing_reason"] for i in expected["invoices"]]
        assert reasons == ["subscription_create", "subscription_update"]
        prorated = expected["invoices"][1]
        assert 0 < prorated["amount_paid"] < 9200 - 2700

    def test_a_downgrade_waits_for_the_end_of_the_period(self) -> None:
        changed = self.downgrade()
        assert changed.plan.code == "studio"
        assert changed.pending_plan is not None
        assert (changed.pending_plan.code, changed.pending_price) == ("pro", self.pro_yearly)
        assert changed.pending_change_at == changed.current_period_end
        shown = self.mirror(self.alice)
        expected, _ = self.rebuilt()
        assert expected["subscriptions"] == shown["subscriptions"]
        assert expected["plan"] == "studio"
        assert expected["subscriptions"][0]["pending_plan__code"] == "pro"

    def test_a_planned_downgrade_can_be_cancelled(self) -> None:
        self.downgrade()
        kept = subscriptions.cancel_pending_change(teacher=self.alice)
        assert (kept.plan.code, kept.pending_plan, kept.stripe_schedule_id) == ("studio", None, "")
        shown = self.mirror(self.alice)
        expected, _ = self.rebuilt()
        assert expected["subscriptions"] == shown["subscriptions"]
        assert expected["subscriptions"][0]["pending_price_id"] is None

    def test_the_planned_change_applies_at_the_period_end(self) -> None:
        self.downgrade()
        self.move_to(self.period_end())
        self.stripe.billing.renew(self.stripe_subscription(self.alice)["id"])
        self.clock.shift(timedelta(minutes=5))
        # No read of our own here: the events alone move the plan.
        expected, _ = self.rebuilt()
        subscription = expected["subscriptions"][0]
        assert (subscription["plan__code"], subscription["interval"]) == ("pro", "year")
        assert (subscription["pending_plan__code"], subscription["status"]) == (None, "active")
        assert Subscription.objects.get().price == self.pro_yearly

    def test_a_failed_payment_keeps_the_plan_and_emails_once(self) -> None:
        self.fail_renewal()
        expected, emails = self.rebuilt()
        subscription = expected["subscriptions"][0]
        assert (subscription["status"], expected["plan"]) == ("past_due", "pro")
        assert subscription["payment_failed_at"] is not None
        latest = Invoice.objects.get(billing_reason="subscription_cycle")
        # Two failures of one invoice: one email, in every order.
        assert all(run == [f"plan-payment-failed:{latest.stripe_invoice_id}"] for run in emails)
        message = next(m for m in mail.outbox if m.to == [self.alice.email])
        assert "didn't go through" in message.subject
        assert "€270.00" in message.body

    def test_a_payment_after_the_failures_clears_them(self) -> None:
        self.recover()
        expected, emails = self.rebuilt()
        subscription = expected["subscriptions"][0]
        assert (subscription["status"], subscription["payment_failed_at"]) == ("active", None)
        # Told once, unless the payment was already recorded when the failure came in.
        assert all(len(run) <= 1 for run in emails)

    def test_a_cancelled_plan_ends_and_the_teacher_falls_back_to_free(self) -> None:
        self.recover()
        stripe_id = self.stripe_subscription(self.alice)["id"]
        self.stripe.billing.cancel_at_period_end(stripe_id)
        self.clock.shift(timedelta(hours=1))
        self.move_to(self.period_end())
        self.stripe.billing.renew(stripe_id)
        self.clock.shift(timedelta(hours=1))
        expected, _ = self.rebuilt()
        subscription = expected["subscriptions"][0]
        assert (subscription["status"], subscription["pending_plan__code"]) == ("canceled", None)
        assert subscription["ended_at"] is not None
        assert expected["plan"] == "free"
        # Nothing is deleted: the invoices stay.
        assert len(expected["invoices"]) == 3


class OrderingTests(PlanTestCase):
    """The rules that make any order end in one state, one at a time."""

    def setUp(self) -> None:
        super().setUp()
        self.subscription = self.subscribe(self.alice, self.price("pro", "month", "EUR"))
        self.stripe.billing.take_events()
        self.data = self.stripe_subscription(self.alice)

    def event(self, type_: str, obj: dict[str, Any], seconds_from_now: int) -> dict[str, Any]:
        created = int(timezone.now().timestamp()) + seconds_from_now
        return self.stripe.event(type_, obj, created=created)

    def test_an_older_subscription_event_never_overwrites_a_newer_one(self) -> None:
        ended = {**self.data, "status": "canceled", "ended_at": int(timezone.now().timestamp())}
        self.post(self.event("customer.subscription.deleted", ended, 60))
        self.post(self.event("customer.subscription.updated", self.data, 30))
        self.subscription.refresh_from_db()
        assert self.subscription.status == "canceled"
        assert plans.plan_of(self.alice).code == "free"

    def test_an_event_of_the_same_second_that_disagrees_is_settled_by_stripe(self) -> None:
        self.post(self.event("customer.subscription.updated", self.data, 60))
        stale = {**self.data, "status": "incomplete"}
        self.post(self.event("customer.subscription.created", stale, 60))
        self.subscription.refresh_from_db()
        assert self.subscription.status == "active"  # what Stripe says when asked
        asked = [c for c in self.stripe.calls if c["path"].endswith(self.data["id"])]
        assert asked[-1]["method"] == "GET"

    def test_a_failure_older_than_a_payment_is_no_failure(self) -> None:
        invoice = self.stripe.billing.invoices[self.data["latest_invoice"]]
        self.post(self.event("invoice.paid", invoice, 60))
        failed = {**invoice, "status": "open", "amount_paid": 0}
        failed["status_transitions"] = {**invoice["status_transitions"], "paid_at": None}
        self.post(self.event("invoice.payment_failed", failed, 30))
        self.subscription.refresh_from_db()
        assert self.subscription.payment_failed_at is None
        assert self.failure_emails() == []
        assert Invoice.objects.get().status == "paid"

    def test_events_about_someone_elses_customer_or_product_are_left_alone(self) -> None:
        strangers = {**self.data, "id": "sub_elsewhere", "customer": "cus_elsewhere"}
        self.post(self.event("customer.subscription.created", strangers, 60))
        item = {**self.data["items"]["data"][0], "price": {"id": "price_x", "product": "prod_x"}}
        other_product = {**self.data, "id": "sub_other", "items": {"data": [item]}}
        self.post(self.event("customer.subscription.created", other_product, 60))
        assert list(Subscription.objects.values_list("stripe_subscription_id", flat=True)) == [
            self.data["id"]
        ]

    def test_a_plan_checkout_completing_leaves_course_purchases_alone(self) -> None:
        session = next(iter(self.stripe.sessions.values()))
        event = self.event(
            "checkout.session.completed", self.stripe.expanded_session(session["id"]), 60
        )
        self.post(event)
        assert StripeEvent.objects.get(event_id=event["id"]).status == "done"
        assert not Purchase.objects.exists()
