"""Stripe's webhooks: signed, stored once, and ending in one state whatever the order or repeats."""

import json
import random
import threading
import time
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test import TransactionTestCase
from django.urls import reverse
from django.utils import timezone

from billing import reconcile, webhooks
from billing.models import ConnectAccount, Coupon, CouponRedemption, Purchase, StripeEvent
from billing.tests.fake_stripe import FakeStripe, post_event, serve_for, signed
from billing.tests.kit import seller
from core.testing import requires_postgres
from courses.models import Enrollment
from courses.tests.factories import CourseFactory
from outbox import inbox
from tests.base import LecternTestCase, StudentFactory


class SignatureTests(LecternTestCase):
    def setUp(self) -> None:
        self.stripe = FakeStripe()  # events only: no server needed

    def test_a_wrong_secret_is_refused_and_nothing_is_stored(self) -> None:
        event = self.stripe.event("account.updated", {"id": "acct_x"})
        response = post_event(self.client, event, secret="whsec_someone_else")
        assert response.status_code == 400
        assert not StripeEvent.objects.exists()

    def test_a_stale_signature_is_refused(self) -> None:
        event = self.stripe.event("account.updated", {"id": "acct_x"})
        response = post_event(self.client, event, at=int(time.time()) - 3600)
        assert response.status_code == 400
        assert not StripeEvent.objects.exists()

    def test_a_tampered_body_is_refused(self) -> None:
        event = self.stripe.event("account.updated", {"id": "acct_x"})
        body, header = signed(event)
        response = self.client.post(
            reverse("billing:stripe_webhook"),
            data=body.replace("acct_x", "acct_y"),
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=header,
        )
        assert response.status_code == 400
        assert not StripeEvent.objects.exists()

    def test_each_endpoint_checks_its_own_secret(self) -> None:
        event = self.stripe.event("account.updated", {"id": "acct_x"})
        body, header = signed(event)  # the platform's secret
        response = self.client.post(
            reverse("billing:stripe_connect_webhook"),
            data=body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=header,
        )
        assert response.status_code == 400
        assert post_event(self.client, event, connect=True).status_code == 200

    def test_a_duplicate_is_answered_200_and_stored_once(self) -> None:
        event = self.stripe.event("transfer.created", {"id": "tr_1"})
        with self.captureOnCommitCallbacks(execute=True):
            first = post_event(self.client, event)
            second = post_event(self.client, event)
        assert (first.status_code, second.status_code) == (200, 200)
        assert second.json()["duplicate"] is True
        row = StripeEvent.objects.get()
        assert (row.type, row.status) == ("transfer.created", "done")

    def test_the_event_is_stored_as_stripe_sent_it(self) -> None:
        event = self.stripe.event("transfer.created", {"id": "tr_1"}, account="acct_1")
        # The database fills in the times; SQLite's clock keeps milliseconds.
        before = timezone.now() - timedelta(milliseconds=1)
        post_event(self.client, event, connect=True)
        row = StripeEvent.objects.get()
        assert row.payload == event
        assert (row.event_id, row.type, row.source, row.account) == (
            event["id"],
            "transfer.created",
            "connect",
            "acct_1",
        )
        assert row.stripe_created_at.timestamp() == event["created"]
        assert (row.status, row.attempts, row.last_error) == ("pending", 0, "")
        assert (row.lease_until, row.processed_at) == (None, None)
        assert before <= row.received_at <= timezone.now()
        assert before <= row.next_attempt_at <= timezone.now()

    def test_a_body_that_is_not_utf8_is_refused(self) -> None:
        response = self.client.post(
            reverse("billing:stripe_webhook"),
            data=b"\xff\xfe{}",
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE="t=1,v1=00",
        )
        assert response.status_code == 400
        assert not StripeEvent.objects.exists()

    def test_it_refuses_get(self) -> None:
        assert self.client.get(reverse("billing:stripe_webhook")).status_code == 405


class AccountEventTests(LecternTestCase):
    def test_an_older_account_event_never_overwrites_a_newer_one(self) -> None:
        account = seller(self.alice, can_sell=False, account_id="acct_test_order")
        stripe = FakeStripe()
        now = int(time.time())
        enabled = {
            "id": "acct_test_order",
            "charges_enabled": True,
            "payouts_enabled": True,
            "details_submitted": True,
            "requirements": {"currently_due": [], "past_due": []},
        }
        restricted = {
            **enabled,
            "charges_enabled": False,
            "requirements": {"currently_due": ["individual.dob.day"], "past_due": []},
        }
        newer = stripe.event("account.updated", enabled, account="acct_test_order", created=now)
        older = stripe.event(
            "account.updated", restricted, account="acct_test_order", created=now - 60
        )
        with self.captureOnCommitCallbacks(execute=True):
            post_event(self.client, newer, connect=True)
            post_event(self.client, older, connect=True)
        account.refresh_from_db()
        assert account.can_sell
        assert account.state_words.startswith("Ready to sell")


class _Purchasing(LecternTestCase):
    """A paid course of alice's and a way to run one purchase's events through the webhook."""

    def setUp(self) -> None:
        self.stripe = serve_for(self)
        seller(self.alice, account_id="acct_test_alice")
        self.stripe.accounts["acct_test_alice"] = {"id": "acct_test_alice", "charges_enabled": True}
        self.coupon = Coupon.objects.create(teacher=self.alice, code="SPRING", percent_off=20)

    def checkout(self, student: Any, course: Any, code: str = "") -> Purchase:
        # Each buyer from an address of their own: checkouts are limited per address.
        address = f"10.0.{student.pk // 250 % 250}.{student.pk % 250 + 1}"
        client = self.new_client(student, REMOTE_ADDR=address)
        client.post(reverse("billing:checkout", args=[course.slug]), {"code": code})
        return Purchase.objects.get(student=student, course=course)

    def deliver(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            with self.captureOnCommitCallbacks(execute=True):
                assert post_event(self.client, event).status_code == 200


class ShuffledDeliveryTests(_Purchasing):
    def test_a_purchase_delivered_shuffled_and_twice_ends_the_same_every_time(self) -> None:
        rng = random.Random(20261203)
        for round_ in range(100):
            student = StudentFactory.create()
            course = CourseFactory.create(teacher=self.alice, price_amount=9900, capacity=5)
            purchase = self.checkout(student, course, code="spring")
            session = self.stripe.pay(purchase.checkout_session_id)
            intent = self.stripe.intents[session["payment_intent"]]
            charge = self.stripe.charges[intent["latest_charge"]]
            events = [
                self.stripe.event("checkout.session.completed", session),
                self.stripe.event("payment_intent.created", intent),
                self.stripe.event("payment_intent.succeeded", intent),
                self.stripe.event("charge.succeeded", charge),
                self.stripe.event("application_fee.created", {"id": f"fee_{round_}"}),
                self.stripe.event("transfer.created", {"id": f"tr_{round_}"}),
            ]
            deliveries = events + rng.sample(events, k=rng.randint(1, len(events)))
            rng.shuffle(deliveries)
            self.deliver(deliveries)
            purchase.refresh_from_db()
            assert (purchase.status, purchase.amount, purchase.discount_amount) == (
                "paid",
                7920,
                1980,
            ), f"round {round_}"
            assert Enrollment.objects.get(student=student, course=course).status == "active"
            assert CouponRedemption.objects.filter(purchase=purchase).count() == 1
            receipts = [
                m for m in mail.outbox if m.to == [student.email] and "receipt" in m.subject.lower()
            ]
            assert len(receipts) == 1, f"round {round_}"
        self.coupon.refresh_from_db()
        assert self.coupon.times_redeemed == 100

    def test_a_refund_delivered_shuffled_and_twice_ends_the_same_every_time(self) -> None:
        rng = random.Random(42)
        for round_ in range(100):
            student = StudentFactory.create()
            course = CourseFactory.create(teacher=self.alice, price_amount=5000, capacity=5)
            purchase = self.checkout(student, course)
            session = self.stripe.pay(purchase.checkout_session_id)
            intent = self.stripe.intents[session["payment_intent"]]
            charge_id = intent["latest_charge"]
            completed = self.stripe.event("checkout.session.completed", session)
            refund = self.stripe.refund(charge_id, 5000)
            charge = self.stripe.charges[charge_id]
            events = [
                completed,
                self.stripe.event("charge.refunded", charge),
                self.stripe.event("refund.created", refund),
                self.stripe.event("refund.updated", refund),
            ]
            deliveries = events + rng.sample(events, k=rng.randint(1, len(events)))
            rng.shuffle(deliveries)
            self.deliver(deliveries)
            purchase.refresh_from_db()
            assert (purchase.status, purchase.refunded_amount) == ("refunded", 5000), round_
            assert purchase.refunds.count() == 1
            assert Enrollment.objects.get(student=student, course=course).status == "left"
            mine = [m for m in mail.outbox if m.to == [student.email]]
            assert len([m for m in mine if "receipt" in m.subject.lower()]) == 1
            assert len([m for m in mine if "Refund of" in m.subject]) == 1


class ReconciliationTests(_Purchasing):
    def test_a_pending_purchase_whose_webhook_never_came_is_repaired(self) -> None:
        course = CourseFactory.create(teacher=self.alice, price_amount=4000)
        purchase = self.checkout(self.bob, course)
        self.stripe.pay(purchase.checkout_session_id)
        later = time_machine.travel(timezone.now() + timedelta(minutes=16))
        with later, self.captureOnCommitCallbacks(execute=True):
            outcome = reconcile.run()
        purchase.refresh_from_db()
        assert outcome["purchases_repaired"] == 1
        assert purchase.status == "paid"
        assert Enrollment.objects.get(student=self.bob, course=course).status == "active"

    def test_an_abandoned_checkout_is_closed_and_its_seat_freed(self) -> None:
        course = CourseFactory.create(teacher=self.alice, price_amount=4000)
        purchase = self.checkout(self.bob, course)
        self.stripe.expire(purchase.checkout_session_id)
        with time_machine.travel(timezone.now() + timedelta(minutes=40)):
            reconcile.run()
        purchase.refresh_from_db()
        assert purchase.status == "expired"
        assert Enrollment.objects.get(student=self.bob, course=course).status == "released"

    def test_an_account_not_heard_of_for_a_day_is_refreshed(self) -> None:
        account = ConnectAccount.objects.get(teacher=self.alice)
        ConnectAccount.objects.filter(pk=account.pk).update(
            synced_at=timezone.now() - timedelta(days=2)
        )
        self.stripe.accounts["acct_test_alice"] = {
            "id": "acct_test_alice",
            "charges_enabled": False,
            "payouts_enabled": True,
            "details_submitted": True,
            "requirements": {"currently_due": ["external_account"], "past_due": []},
        }
        assert reconcile.run()["accounts"] == 1
        account.refresh_from_db()
        assert not account.can_sell
        assert account.state_words == "Stripe needs 1 more detail before you can sell."

    def test_a_failed_event_is_recorded_and_processed_on_the_next_run(self) -> None:
        course = CourseFactory.create(teacher=self.alice, price_amount=4000)
        purchase = self.checkout(self.bob, course)
        session = self.stripe.pay(purchase.checkout_session_id)
        intent = self.stripe.intents[session["payment_intent"]]
        charge = dict(self.stripe.charges[intent["latest_charge"]], metadata={})
        self.stripe.failing[f"/v1/payment_intents/{intent['id']}"] = (
            500,
            {"error": {"type": "api_error", "message": "Stripe is having a moment"}},
        )
        # A refund whose purchase can only be found by asking Stripe, while Stripe is down.
        Purchase.objects.filter(pk=purchase.pk).update(payment_intent_id=None)
        self.stripe.refund(charge["id"], 4000)
        event = self.stripe.event("charge.refunded", {**charge, "amount_refunded": 4000})
        self.deliver([event])
        row = StripeEvent.objects.get(event_id=event["id"])
        assert row.status == "pending"
        assert "Stripe" in row.last_error
        self.stripe.failing.clear()
        later = time_machine.travel(timezone.now() + timedelta(minutes=5))
        with later, self.captureOnCommitCallbacks(execute=True):
            assert webhooks.process(event["id"]).status == "done"
        purchase.refresh_from_db()
        assert (purchase.status, purchase.refunded_amount) == ("refunded", 4000)


@pytest.mark.usefixtures("through_the_broker")
class WakeUpTests(LecternTestCase):
    """With a worker behind a broker, a burst of events wakes the processor once."""

    def setUp(self) -> None:
        self.stripe = FakeStripe()
        webhooks.INBOX._quiet_until = 0.0  # a fresh web process

    def post(self) -> Any:
        with self.captureOnCommitCallbacks(execute=True):
            return post_event(self.client, self.stripe.event("transfer.created", {"id": "tr_1"}))

    def test_the_first_event_raises_the_flag_and_the_next_ones_dont_ask_again(self) -> None:
        self.post()
        assert cache.get(webhooks.INBOX.wake_key) == 1
        cache.delete(webhooks.INBOX.wake_key)  # as the woken task does before it looks
        self.post()
        assert cache.get(webhooks.INBOX.wake_key) is None  # this process knew it was woken
        assert StripeEvent.objects.filter(status="pending").count() == 2

    def test_after_the_quiet_time_an_event_asks_again(self) -> None:
        with mock.patch.object(inbox, "QUIET", 0.05):
            self.post()
            cache.delete(webhooks.INBOX.wake_key)
            time.sleep(0.06)
            self.post()
        assert cache.get(webhooks.INBOX.wake_key) == 1

    def test_the_processor_keeps_looking_for_longer_than_the_quiet_time(self) -> None:
        self.post()
        started = time.monotonic()
        assert webhooks.drain() == 1
        assert time.monotonic() - started >= inbox.LINGER > inbox.QUIET
        assert cache.get(webhooks.INBOX.wake_key) is None
        assert StripeEvent.objects.get().status == "done"

    def test_a_full_batch_hands_over_to_a_fresh_task(self) -> None:
        for _ in range(3):
            self.post()
        cache.delete(webhooks.INBOX.wake_key)
        with self.captureOnCommitCallbacks(execute=True):
            assert webhooks.drain(limit=2) == 2
        assert cache.get(webhooks.INBOX.wake_key) == 1  # the next task is queued
        assert StripeEvent.objects.filter(status="pending").count() == 1


@requires_postgres
@pytest.mark.usefixtures("through_the_broker")
class LingerTests(TransactionTestCase):
    def test_an_event_stored_without_asking_while_the_processor_lingers_is_processed(
        self,
    ) -> None:
        stripe = FakeStripe()
        first = stripe.event("transfer.created", {"id": "tr_1"})
        webhooks.receive(event=first, body=json.dumps(first), source="platform")
        late = stripe.event("transfer.created", {"id": "tr_2"})

        def store_late() -> None:
            time.sleep(0.3)  # after the processor's first look, within its quiet time
            webhooks.receive(event=late, body=json.dumps(late), source="platform")
            connection.close()

        storer = threading.Thread(target=store_late)
        storer.start()
        ran = webhooks.drain()
        storer.join()
        assert ran == 2
        assert set(StripeEvent.objects.values_list("status", flat=True)) == {"done"}
