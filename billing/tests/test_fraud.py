"""Fraud signals: each rule raises one signal on real rows, and not a second while it is open.

Declines arrive as signed Stripe webhooks; coupon and refund rates are read from
recorded sales."""

import threading
from datetime import timedelta
from typing import Any

import time_machine
from django.db import connection
from django.test import TransactionTestCase
from django.utils import timezone

from accounts.models import User
from billing import tasks
from billing.models import CardFailure, FraudSignal, Purchase, StripeEvent
from billing.services import fraud, fraud_review
from billing.tests.fraud_kit import Buying, no_personal_data, sale
from core.testing import requires_postgres
from courses.tests.factories import CourseFactory
from tests.base import (
    LecternTestCase,
    StudentFactory,
    make_people,
)

Rule = FraudSignal.Rule
Status = FraudSignal.Status


# --- Raising signals -------------------------------------------------------------------------


class RaiseSignalTests(LecternTestCase):
    def raise_(self, teacher: User, rule: str = Rule.COUPON_RATE) -> bool:
        return fraud.raise_signal(teacher=teacher, rule=rule, summary="s", evidence={"n": 1})

    def test_it_raises_one_open_signal_per_rule_and_teacher(self) -> None:
        assert self.raise_(self.alice) is True
        assert self.raise_(self.alice) is False
        assert self.raise_(self.alice, Rule.REFUND_RATE) is True
        assert self.raise_(self.carol) is True
        assert FraudSignal.objects.count() == 3

    def test_a_reviewed_signal_lets_a_new_one_open(self) -> None:
        self.raise_(self.alice)
        signal = FraudSignal.objects.get()
        fraud_review.dismiss_signal(signal=signal, by=self.staff, note="A launch promotion.")
        assert self.raise_(self.alice) is True
        fraud_review.escalate_signal(
            signal=FraudSignal.objects.get(status=Status.OPEN), by=self.staff, note="Odd."
        )
        assert self.raise_(self.alice) is True
        statuses = sorted(FraudSignal.objects.values_list("status", flat=True))
        assert statuses == ["dismissed", "escalated", "open"]


@requires_postgres
class RaiseSignalRaceTests(TransactionTestCase):
    def test_two_processes_raising_at_once_make_one_signal(self) -> None:
        alice = make_people()["alice"]
        barrier = threading.Barrier(4)
        results: list[bool] = []

        def raise_one() -> None:
            try:
                barrier.wait()
                results.append(
                    fraud.raise_signal(
                        teacher=alice, rule=Rule.CARD_TESTING, summary="s", evidence={}
                    )
                )
            finally:
                connection.close()

        threads = [threading.Thread(target=raise_one) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == [False, False, False, True]
        assert FraudSignal.objects.count() == 1


# --- High coupon use -------------------------------------------------------------------------


class CouponRateTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, price_amount=10000)
        self.students = StudentFactory.create_batch(3)

    def sales(
        self, deep: int, full: int, *, off: int = 8000, ago: timedelta = timedelta(0)
    ) -> None:
        """Record `deep` sales with `off` of 10,000 off, then `full` at full price, `ago` ago."""
        at = timezone.now() - ago
        for i in range(deep):
            sale(self.course, self.students[i % 3], amount=10000 - off, discount_amount=off,
                 created_at=at - timedelta(minutes=deep + full - i))  # fmt: skip
        for i in range(full):
            sale(self.course, self.students[i % 3], amount=10000,
                 created_at=at - timedelta(minutes=full - i))  # fmt: skip

    def test_it_signals_when_most_recent_paid_enrolments_took_deep_discounts(self) -> None:
        self.sales(deep=8, full=2)
        assert fraud.check_coupon_rates() == 1
        signal = FraudSignal.objects.get()
        assert (signal.teacher, signal.rule, signal.status) == (self.alice, "coupon_rate", "open")
        assert signal.summary == "8 of the last 10 paid enrolments took 80% or more off the price."
        evidence = signal.evidence
        assert (evidence["paid_enrolments"], evidence["deep_discounts"]) == (10, 8)
        assert (evidence["share_percent"], evidence["discount_at_least_percent"]) == (80, 80)
        assert len(evidence["purchase_ids"]) == 8
        no_personal_data(signal, self.alice, *self.students)

    def test_it_raises_no_second_signal_while_open_and_a_new_one_when_it_recurs(self) -> None:
        self.sales(deep=10, full=0)
        assert fraud.check_coupon_rates() == 1
        assert fraud.check_coupon_rates() == 0
        signal = FraudSignal.objects.get()
        fraud_review.dismiss_signal(signal=signal, by=self.staff, note="A launch offer.")
        assert fraud.check_coupon_rates() == 1  # still the pattern: raised again for review
        assert FraudSignal.objects.filter(status=Status.OPEN).count() == 1

    def test_a_share_just_under_the_bar_raises_nothing(self) -> None:
        self.sales(deep=7, full=3)
        assert fraud.check_coupon_rates() == 0

    def test_a_discount_just_under_80_percent_is_not_deep(self) -> None:
        self.sales(deep=10, full=0, off=7999)
        assert fraud.check_coupon_rates() == 0

    def test_large_amounts_are_compared_without_overflow(self) -> None:
        for _ in range(10):  # 2,000,000.00 IDR, 80% off
            sale(self.course, self.bob, amount=40_000_000, discount_amount=160_000_000)
        assert fraud.check_coupon_rates() == 1

    def test_it_needs_enough_paid_enrolments(self) -> None:
        self.sales(deep=9, full=0)
        assert fraud.check_coupon_rates() == 0
        assert not FraudSignal.objects.exists()

    def test_only_the_most_recent_enrolments_count(self) -> None:
        self.sales(deep=20, full=0, ago=timedelta(days=1))
        self.sales(deep=15, full=5)  # the last 20: 75% deep
        assert fraud.check_coupon_rates() == 0

    def test_unpaid_and_old_enrolments_dont_count(self) -> None:
        self.sales(deep=10, full=0, ago=timedelta(days=31))
        for i in range(10):
            sale(self.course, self.students[i % 3], amount=2000, discount_amount=8000,
                 status=Purchase.Status.EXPIRED, paid_at=None)  # fmt: skip
        assert fraud.check_coupon_rates() == 0

    def test_the_periodic_job_runs_the_rule(self) -> None:
        self.sales(deep=10, full=0)
        assert tasks.check_coupon_rates_task.delay().get() == 1


# --- Refunds and disputes --------------------------------------------------------------------


class RefundRateTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, price_amount=5000)

    def sales(self, *, refunded: int = 0, disputed: int = 0, kept: int = 0, **fields: Any) -> None:
        for _ in range(refunded):
            sale(self.course, self.bob, refunded_amount=2000,
                 status=Purchase.Status.PARTIALLY_REFUNDED, **fields)  # fmt: skip
        for _ in range(disputed):
            sale(self.course, self.bob, disputed_at=timezone.now(), status="disputed", **fields)
        for _ in range(kept):
            sale(self.course, self.bob, **fields)

    def test_it_signals_a_rate_above_the_bar(self) -> None:
        self.sales(refunded=3, disputed=1, kept=6)
        assert fraud.check_refund_rates() == 1
        signal = FraudSignal.objects.get()
        assert (signal.teacher, signal.rule) == (self.alice, "refund_rate")
        assert signal.summary == "40% of 10 paid sales in 90 days were refunded or disputed."
        assert signal.evidence == {
            "window_days": 90,
            "paid_sales": 10,
            "refunded": 3,
            "disputed": 1,
            "rate_percent": 40,
        }
        no_personal_data(signal, self.alice, self.bob)

    def test_a_rate_at_the_bar_is_not_above_it(self) -> None:
        self.sales(refunded=2, disputed=1, kept=7)
        assert fraud.check_refund_rates() == 0

    def test_it_needs_enough_paid_sales(self) -> None:
        self.sales(refunded=9)
        assert fraud.check_refund_rates() == 0

    def test_sales_older_than_the_window_dont_count(self) -> None:
        self.sales(refunded=5, kept=5, created_at=timezone.now() - timedelta(days=91))
        assert fraud.check_refund_rates() == 0

    def test_one_signal_while_open_and_a_new_one_after_dismissal(self) -> None:
        self.sales(refunded=5, kept=5)
        assert (fraud.check_refund_rates(), fraud.check_refund_rates()) == (1, 0)
        fraud_review.dismiss_signal(
            signal=FraudSignal.objects.get(), by=self.staff, note="A cancelled date."
        )
        assert tasks.check_refund_rates_task.delay().get() == 1


# --- Card testing ----------------------------------------------------------------------------


class CardTestingTests(Buying):
    def setUp(self) -> None:
        super().setUp()
        self.buy(self.bob)
        self.purchase = Purchase.objects.get()

    def decline(self, times: int = 1, code: str = "insufficient_funds") -> None:
        """Decline `times` cards, each reported by Stripe's two events (and each twice)."""
        for _ in range(times):
            charge, intent = self.stripe.decline(self.purchase.checkout_session_id, code)
            charge_failed = self.stripe.event("charge.failed", charge)
            intent_failed = self.stripe.event("payment_intent.payment_failed", intent)
            self.deliver(charge_failed, intent_failed, intent_failed, charge_failed)

    def test_a_decline_is_recorded_once_from_its_two_events_sent_twice(self) -> None:
        self.decline()
        failure = CardFailure.objects.get()
        charge = next(iter(self.stripe.charges.values()))
        assert (failure.stripe_id, failure.decline_code) == (charge["id"], "insufficient_funds")
        assert (failure.teacher, failure.purchase) == (self.alice, self.purchase)
        assert StripeEvent.objects.filter(status="done").count() == 2
        self.purchase.refresh_from_db()
        assert self.purchase.status == "pending"  # the buyer may try another card
        assert not FraudSignal.objects.exists()

    def test_ten_declines_within_an_hour_raise_one_signal(self) -> None:
        self.decline(times=9)
        assert not FraudSignal.objects.exists()
        self.decline(times=1, code="card_velocity_exceeded")
        signal = FraudSignal.objects.get()
        assert (signal.teacher, signal.rule, signal.status) == (self.alice, "card_testing", "open")
        assert signal.summary == "10 declined card attempts on their courses within an hour."
        evidence = signal.evidence
        assert (evidence["declined_attempts"], evidence["purchases"]) == (10, 1)
        assert evidence["decline_codes"] == {"card_velocity_exceeded": 1, "insufficient_funds": 9}
        self.decline(times=3)
        assert FraudSignal.objects.count() == 1
        no_personal_data(signal, self.alice, self.bob)

    def test_declines_spread_over_more_than_an_hour_raise_nothing(self) -> None:
        start = timezone.now()
        for minutes in range(0, 70, 7):  # ten declines, at most nine in any hour
            with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
                self.decline()
        assert CardFailure.objects.count() == 10
        assert not FraudSignal.objects.exists()

    def test_a_new_signal_is_raised_after_dismissal_when_it_recurs(self) -> None:
        self.decline(times=10)
        fraud_review.dismiss_signal(
            signal=FraudSignal.objects.get(), by=self.staff, note="A buyer's bank hiccup."
        )
        self.decline()
        assert FraudSignal.objects.filter(status=Status.OPEN).count() == 1

    def test_a_decline_on_a_payment_that_isnt_ours_is_ignored(self) -> None:
        stranger = {"id": "ch_elsewhere", "object": "charge", "status": "failed", "metadata": {}}
        self.deliver(self.stripe.event("charge.failed", stranger))
        assert not CardFailure.objects.exists()
        assert StripeEvent.objects.get().status == "done"

    def test_a_decline_without_our_metadata_is_found_by_its_destination(self) -> None:
        charge = {
            "id": "ch_dashboard_1",
            "object": "charge",
            "status": "failed",
            "failure_code": "card_declined",
            "metadata": {},
            "transfer_data": {"destination": "acct_test_alice"},
        }
        self.deliver(self.stripe.event("charge.failed", charge))
        failure = CardFailure.objects.get()
        assert (failure.teacher, failure.purchase, failure.decline_code) == (
            self.alice,
            None,
            "card_declined",
        )
