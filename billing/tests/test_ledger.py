"""The active-student ledger: one row per (teacher, student) pair paid in the last 30 days."""

from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from django.urls import reverse

from billing.models import ActiveStudent, PlanCapState, Purchase
from billing.services import caps
from billing.tests.fake_stripe import post_event, serve_for
from billing.tests.kit import seller
from courses.tests.factories import CourseFactory
from tests.base import LecternTestCase

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
Status = Purchase.Status


@time_machine.travel(NOW, tick=False)
class LedgerTests(LecternTestCase):
    """alice teaches; bob and carol buy her courses."""

    def purchase(self, student: Any = None, *, paid: datetime = NOW, **fields: Any) -> Purchase:
        values = {
            "status": Status.PAID,
            "gross_amount": 4900,
            "amount": 4900,
            "currency": "EUR",
            "course_title": "Throwing",
            "connect_account_id": "acct_test_alice",
            "paid_at": paid,
            **fields,
        }
        return Purchase.objects.create(student=student or self.bob, teacher=self.alice, **values)

    def ledger(self) -> list[tuple[int, datetime]]:
        return list(
            ActiveStudent.objects.order_by("student").values_list("student", "last_paid_at")
        )

    def test_it_counts_a_pair_once_at_its_latest_payment(self) -> None:
        first = self.purchase(paid=NOW - timedelta(days=10))
        second = self.purchase(paid=NOW - timedelta(days=2))
        caps.purchase_changed(first)
        caps.purchase_changed(second)
        assert self.ledger() == [(self.bob.pk, NOW - timedelta(days=2))]
        assert PlanCapState.objects.get(teacher=self.alice).active_students == 1

    def test_repeated_and_reordered_calls_end_in_the_same_row(self) -> None:
        kept = self.purchase(paid=NOW - timedelta(days=3))
        refunded = self.purchase(
            paid=NOW - timedelta(days=1), status=Status.REFUNDED, refunded_amount=4900
        )
        outcomes = set()
        for order in ([kept, refunded], [refunded, kept], [kept, kept, refunded, refunded, kept]):
            ActiveStudent.objects.all().delete()
            for purchase in order:
                caps.purchase_changed(purchase)
            outcomes.add(tuple(self.ledger()))
        assert outcomes == {((self.bob.pk, NOW - timedelta(days=3)),)}

    def test_a_full_refund_removes_the_pair(self) -> None:
        purchase = self.purchase()
        caps.purchase_changed(purchase)
        purchase.status, purchase.refunded_amount = Status.REFUNDED, 4900
        purchase.save()
        caps.purchase_changed(purchase)
        assert self.ledger() == []

    def test_a_partial_refund_keeps_the_pair(self) -> None:
        purchase = self.purchase()
        caps.purchase_changed(purchase)
        purchase.status, purchase.refunded_amount = Status.PARTIALLY_REFUNDED, 1000
        purchase.save()
        caps.purchase_changed(purchase)
        assert self.ledger() == [(self.bob.pk, NOW)]

    def test_refunding_the_latest_purchase_falls_back_to_the_one_still_counting(self) -> None:
        older = self.purchase(paid=NOW - timedelta(days=5))
        latest = self.purchase(paid=NOW - timedelta(days=1))
        caps.purchase_changed(older)
        caps.purchase_changed(latest)
        latest.status, latest.refunded_amount = Status.REFUNDED, 4900
        latest.save()
        caps.purchase_changed(latest)
        assert self.ledger() == [(self.bob.pk, NOW - timedelta(days=5))]

    def test_only_payments_of_the_last_30_days_count(self) -> None:
        inside = self.purchase(self.bob, paid=NOW - timedelta(days=30) + timedelta(seconds=1))
        outside = self.purchase(self.carol, paid=NOW - timedelta(days=30) - timedelta(seconds=1))
        caps.purchase_changed(inside)
        caps.purchase_changed(outside)
        assert self.ledger() == [(self.bob.pk, inside.paid_at)]

    def test_a_row_past_its_30_days_stops_counting_before_the_sweep_deletes_it(self) -> None:
        caps.purchase_changed(self.purchase(self.bob, paid=NOW - timedelta(days=29)))
        caps.purchase_changed(self.purchase(self.carol, paid=NOW))
        assert caps.evaluate(self.alice.pk) == "normal"
        assert PlanCapState.objects.get(teacher=self.alice).active_students == 2
        with time_machine.travel(NOW + timedelta(days=1, seconds=1), tick=False):
            caps.evaluate(self.alice.pk)
        assert ActiveStudent.objects.count() == 2  # still there until the retention sweep
        assert PlanCapState.objects.get(teacher=self.alice).active_students == 1

    def test_failed_pending_and_disputed_purchases_count_for_nobody(self) -> None:
        for status in (Status.FAILED, Status.PENDING, Status.EXPIRED, Status.DISPUTED):
            caps.purchase_changed(self.purchase(status=status))
        assert self.ledger() == []

    def test_an_anonymised_purchase_is_skipped(self) -> None:
        purchase = self.purchase()
        purchase.student = None
        caps.purchase_changed(purchase)
        assert self.ledger() == []
        assert not PlanCapState.objects.exists()

    def test_pairs_of_other_teachers_are_their_own(self) -> None:
        caps.purchase_changed(self.purchase(self.bob))
        other = Purchase.objects.create(
            student=self.bob,
            teacher=self.dave,
            course_title="Glazing",
            connect_account_id="acct_test_dave",
            gross_amount=100,
            amount=100,
            currency="EUR",
            status=Status.PAID,
            paid_at=NOW,
        )
        caps.purchase_changed(other)
        pairs = set(ActiveStudent.objects.values_list("teacher", "student"))
        assert pairs == {(self.alice.pk, self.bob.pk), (self.dave.pk, self.bob.pk)}


class LedgerFromStripeTests(LecternTestCase):
    """The ledger follows real payments and refunds as Stripe reports them."""

    def setUp(self) -> None:
        self.stripe = serve_for(self)
        seller(self.alice, account_id="acct_test_alice")
        self.stripe.accounts["acct_test_alice"] = {"id": "acct_test_alice", "charges_enabled": True}
        CourseFactory.create(teacher=self.alice, slug="kiln", price_amount=12000)
        self.new_client(self.bob).post(reverse("billing:checkout", args=["kiln"]))
        self.purchase = Purchase.objects.get()
        session = self.stripe.pay(self.purchase.checkout_session_id)
        self.paid = self.stripe.event("checkout.session.completed", session)
        with self.captureOnCommitCallbacks(execute=True):
            post_event(self.client, self.paid)
        self.purchase.refresh_from_db()

    def refund(self, amount: int) -> None:
        charge_id = self.stripe.intents[self.purchase.payment_intent_id]["latest_charge"]
        refund = self.stripe.refund(charge_id, amount)
        with self.captureOnCommitCallbacks(execute=True):
            post_event(self.client, self.stripe.event("refund.created", refund))

    def test_a_paid_checkout_adds_the_pair_once(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            post_event(self.client, self.paid)  # Stripe sends it again
        row = ActiveStudent.objects.get()
        assert (row.teacher_id, row.student_id) == (self.alice.pk, self.bob.pk)
        assert row.last_paid_at == self.purchase.paid_at
        assert PlanCapState.objects.get(teacher=self.alice).active_students == 1

    def test_a_partial_refund_keeps_the_pair_and_a_full_one_removes_it(self) -> None:
        self.refund(2000)
        assert ActiveStudent.objects.count() == 1
        self.refund(10000)
        assert not ActiveStudent.objects.exists()
        assert PlanCapState.objects.get(teacher=self.alice).active_students == 0
