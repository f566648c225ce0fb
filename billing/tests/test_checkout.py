"""Buying a course: the seat held, the Checkout Session asked for, the payment recorded once."""

from datetime import timedelta
from typing import Any

from django.core import mail
from django.urls import reverse

from billing.models import Purchase, StripeEvent
from billing.tests.fake_stripe import post_event, serve_for
from billing.tests.kit import seller
from courses.models import Enrollment, WaitlistEntry
from courses.tests.factories import CourseFactory
from notifications.models import Notification
from tests.base import LecternTestCase


class _Buying(LecternTestCase):
    """alice can sell; her course "glazing" costs €149 and has two seats."""

    def setUp(self) -> None:
        self.stripe = serve_for(self)
        self.account = seller(self.alice, account_id="acct_test_alice")
        self.stripe.accounts["acct_test_alice"] = {"id": "acct_test_alice", "charges_enabled": True}
        self.course = CourseFactory.create(
            teacher=self.alice, slug="glazing", price_amount=14900, currency="EUR", capacity=2
        )

    def buy(self, user: Any = None, **data: str) -> Any:
        client = self.login(user or self.bob)
        return client.post(reverse("billing:checkout", args=["glazing"]), data)


class CheckoutTests(_Buying):
    def test_it_holds_a_seat_and_sends_the_student_to_stripe_checkout(self) -> None:
        response = self.buy()
        purchase = Purchase.objects.get()
        assert response.status_code == 302
        assert response["Location"] == purchase.checkout_url
        assert response["Location"].startswith(f"{self.stripe.url}/pay/cs_test_")
        assert (purchase.status, purchase.amount, purchase.currency) == ("pending", 14900, "EUR")
        assert purchase.application_fee_amount == 745
        seat = Enrollment.objects.get(student=self.bob, course=self.course)
        assert (seat.status, seat.hold_reason) == ("held", "payment")
        call = next(c for c in self.stripe.calls if c["path"] == "/v1/checkout/sessions")
        params = call["params"]
        assert params["mode"] == "payment"
        assert params["line_items"][0]["price_data"]["unit_amount"] == "14900"
        assert params["line_items"][0]["price_data"]["currency"] == "eur"
        assert params["payment_intent_data"]["application_fee_amount"] == "745"
        assert params["payment_intent_data"]["transfer_data"]["destination"] == "acct_test_alice"
        assert params["customer_email"] == self.bob.email
        assert call["headers"]["Idempotency-Key"] == f"checkout:{purchase.pk}"

    def test_a_second_click_returns_to_the_same_checkout(self) -> None:
        first = self.buy()
        second = self.buy()
        assert first["Location"] == second["Location"]
        assert Purchase.objects.count() == 1
        sessions = [c for c in self.stripe.calls if c["path"] == "/v1/checkout/sessions"]
        assert len(sessions) == 1

    def test_it_enrols_the_student_once_the_payment_succeeds_and_sends_one_receipt(self) -> None:
        self.buy()
        purchase = Purchase.objects.get()
        session = self.stripe.pay(purchase.checkout_session_id)
        event = self.stripe.event("checkout.session.completed", session)
        with self.captureOnCommitCallbacks(execute=True):
            assert post_event(self.client, event).status_code == 200
        with self.captureOnCommitCallbacks(execute=True):
            assert post_event(self.client, event).status_code == 200  # Stripe sends it again
        purchase.refresh_from_db()
        assert purchase.status == "paid"
        assert purchase.payment_intent_id == session["payment_intent"]
        assert Enrollment.objects.get(student=self.bob, course=self.course).status == "active"
        receipts = [m for m in mail.outbox if "receipt" in m.subject.lower()]
        assert len(receipts) == 1
        assert "€149.00" in receipts[0].body
        assert "Alice" in receipts[0].body
        assert StripeEvent.objects.get().status == "done"
        sale = Notification.objects.get(recipient=self.alice, kind="payment")
        assert "€149.00" in sale.body

    def test_the_return_page_confirms_with_stripe_when_the_webhook_is_late(self) -> None:
        response = self.buy()
        purchase = Purchase.objects.get()
        self.stripe.pay(purchase.checkout_session_id)
        session = self.stripe.sessions[purchase.checkout_session_id]
        with self.captureOnCommitCallbacks(execute=True):
            page = self.client.get(session["success_url"].replace(self.stripe.url, ""))
        assert response.status_code == 302
        self.assertContains(page, "Payment received, you")
        assert Enrollment.objects.get(student=self.bob, course=self.course).status == "active"

    def test_the_return_page_waits_for_a_payment_not_yet_made(self) -> None:
        self.buy()
        purchase = Purchase.objects.get()
        page = self.client.get(self.stripe.sessions[purchase.checkout_session_id]["success_url"])
        self.assertContains(page, "Confirming your payment")
        self.assertContains(page, 'hx-trigger="every 2s"')

    def test_another_persons_return_page_is_not_found(self) -> None:
        self.buy()
        purchase = Purchase.objects.get()
        url = self.stripe.sessions[purchase.checkout_session_id]["success_url"]
        self.login(self.dave)
        assert self.client.get(url).status_code == 404
        assert (
            self.client.get(reverse("billing:checkout_return", args=["forged"])).status_code == 404
        )

    def test_an_expired_checkout_frees_the_seat(self) -> None:
        self.buy()
        purchase = Purchase.objects.get()
        session = self.stripe.expire(purchase.checkout_session_id)
        with self.captureOnCommitCallbacks(execute=True):
            post_event(self.client, self.stripe.event("checkout.session.expired", session))
        purchase.refresh_from_db()
        assert purchase.status == "expired"
        assert Enrollment.objects.get(student=self.bob, course=self.course).status == "released"

    def test_two_students_racing_for_the_last_seat_one_checks_out(self) -> None:
        self.course.capacity = 1
        self.course.save()
        first = self.buy(self.bob)
        second = self.new_client(self.dave).post(reverse("billing:checkout", args=["glazing"]))
        assert first["Location"].startswith(self.stripe.url)
        assert second["Location"] == self.course.get_absolute_url()
        assert Purchase.objects.count() == 1
        page = self.new_client(self.dave).get(self.course.get_absolute_url())
        self.assertContains(page, "Join the waitlist")

    def test_a_paid_course_of_a_teacher_who_cannot_sell_is_not_open(self) -> None:
        self.account.charges_enabled = False
        self.account.save()
        page = self.login(self.bob).get(self.course.get_absolute_url())
        self.assertContains(page, "Not open for enrolment yet")
        response = self.buy()
        assert response.status_code == 302
        assert Purchase.objects.count() == 0
        assert not Enrollment.objects.filter(student=self.bob).exists()
        teacher_view = self.new_client(self.alice).get(self.course.get_absolute_url())
        self.assertContains(teacher_view, "Connect Stripe from your dashboard")

    def test_a_visitor_gives_a_name_and_email_and_is_sent_to_a_prefilled_checkout(self) -> None:
        client = self.new_client()
        response = client.post(
            reverse("billing:checkout", args=["glazing"]),
            {"first_name": "Vera", "last_name": "Visitor", "email": "vera@example.org"},
        )
        purchase = Purchase.objects.get()
        assert response["Location"] == purchase.checkout_url
        assert purchase.student is not None
        assert purchase.student.email == "vera@example.org"
        call = next(c for c in self.stripe.calls if c["path"] == "/v1/checkout/sessions")
        assert call["params"]["customer_email"] == "vera@example.org"
        session = self.stripe.pay(purchase.checkout_session_id)
        with self.captureOnCommitCallbacks(execute=True):
            post_event(client, self.stripe.event("checkout.session.completed", session))
        subjects = sorted(m.subject for m in mail.outbox if m.to == ["vera@example.org"])
        assert any("receipt" in s.lower() for s in subjects)
        assert any(
            "password" in m.body.lower() for m in mail.outbox if m.to == ["vera@example.org"]
        )
        page = client.get(session["success_url"].replace(self.stripe.url, ""))
        self.assertContains(page, "choose your password")

    def test_a_visitor_with_bad_input_gets_the_form_back(self) -> None:
        response = self.new_client().post(
            reverse("billing:checkout", args=["glazing"]), {"email": "not an address"}
        )
        assert response.status_code == 400
        self.assertContains(response, "Continue to payment", status_code=400)
        assert Purchase.objects.count() == 0

    def test_stripe_refusing_the_session_frees_the_seat_with_a_clear_message(self) -> None:
        self.stripe.fail_next["/v1/checkout/sessions"] = (
            400,
            {"error": {"type": "invalid_request_error", "message": "No such destination"}},
        )
        response = self.buy()
        assert response.status_code == 302
        assert Purchase.objects.get().status == "expired"
        assert Enrollment.objects.get(student=self.bob, course=self.course).status == "released"


class SettlingLaterTests(_Buying):
    """Bank debits: the session completes unpaid, and the money arrives (or doesn't) later."""

    def complete_unpaid(self) -> Purchase:
        self.buy()
        purchase = Purchase.objects.get()
        session = self.stripe.pay(purchase.checkout_session_id, settles_later=True)
        with self.captureOnCommitCallbacks(execute=True):
            post_event(self.client, self.stripe.event("checkout.session.completed", session))
        purchase.refresh_from_db()
        return purchase

    def test_the_seat_stays_held_until_the_payment_settles(self) -> None:
        purchase = self.complete_unpaid()
        assert purchase.status == "pending"
        seat = Enrollment.objects.get(student=self.bob, course=self.course)
        assert seat.status == "held"
        assert seat.hold_expires_at is not None
        assert seat.hold_expires_at > purchase.created_at + timedelta(days=13)
        session = self.stripe.settle(purchase.checkout_session_id)
        event = self.stripe.event("checkout.session.async_payment_succeeded", session)
        with self.captureOnCommitCallbacks(execute=True):
            post_event(self.client, event)
        purchase.refresh_from_db()
        assert purchase.status == "paid"
        seat.refresh_from_db()
        assert seat.status == "active"

    def test_a_payment_that_fails_later_frees_the_seat(self) -> None:
        purchase = self.complete_unpaid()
        session = self.stripe.sessions[purchase.checkout_session_id]
        event = self.stripe.event("checkout.session.async_payment_failed", session)
        with self.captureOnCommitCallbacks(execute=True):
            post_event(self.client, event)
        purchase.refresh_from_db()
        assert purchase.status == "failed"
        seat = Enrollment.objects.get(student=self.bob, course=self.course)
        assert seat.status == "released"
        assert not [m for m in mail.outbox if "receipt" in m.subject.lower()]


class PaidWaitlistTests(_Buying):
    def test_a_freed_seat_is_held_for_the_first_waiting_student_to_buy(self) -> None:
        self.course.capacity = 1
        self.course.save()
        self.buy(self.bob)
        purchase = Purchase.objects.get()
        dave = self.new_client(self.dave)
        response = dave.post(reverse("courses:join_waitlist", args=["glazing"]))
        assert response.status_code == 302
        assert WaitlistEntry.objects.filter(student=self.dave).exists()
        session = self.stripe.expire(purchase.checkout_session_id)
        with self.captureOnCommitCallbacks(execute=True):
            post_event(self.client, self.stripe.event("checkout.session.expired", session))
        seat = Enrollment.objects.get(student=self.dave, course=self.course)
        assert (seat.status, seat.hold_reason) == ("held", "payment")
        offer = [m for m in mail.outbox if m.to == [self.dave.email]]
        assert any("A seat is waiting for you" in m.subject for m in offer)
        # Dave buys the seat kept for him, although the course is otherwise full.
        bought = dave.post(reverse("billing:checkout", args=["glazing"]))
        assert bought["Location"].startswith(self.stripe.url)
        # Bob can't take it back meanwhile.
        again = self.buy(self.bob)
        assert again["Location"] == self.course.get_absolute_url()


class PageTests(LecternTestCase):
    def test_forms_may_lead_to_stripe_checkout_and_onboarding(self) -> None:
        policy = self.client.get(reverse("account_login"))["Content-Security-Policy"]
        form_action = next(p for p in policy.split(";") if p.strip().startswith("form-action"))
        assert "https://checkout.stripe.com" in form_action
        assert "https://connect.stripe.com" in form_action
