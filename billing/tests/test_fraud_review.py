"""Staff review of fraud signals: dismissing, escalating, the sales pause, the admin queue,
and the checkout rate limits against card testing."""

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from billing.models import CardFailure, FraudSignal, Purchase
from billing.services import fraud, fraud_review, gate
from billing.tests.fraud_kit import Buying
from courses.models import Enrollment
from tests.base import (
    LecternTestCase,
    StudentFactory,
    TeacherFactory,
    assert_constant_queries,
    fresh_rate_window,
)

Rule = FraudSignal.Rule
Status = FraudSignal.Status


# --- Review and the sales pause --------------------------------------------------------------


class ReviewTests(Buying):
    def setUp(self) -> None:
        super().setUp()
        fraud.raise_signal(
            teacher=self.alice, rule=Rule.OFF_PLATFORM_LINK, summary="A link", evidence={}
        )
        self.signal = FraudSignal.objects.get()

    def escalate(self, pause: bool = True) -> FraudSignal:
        with self.captureOnCommitCallbacks(execute=True):
            return fraud_review.escalate_signal(
                signal=self.signal,
                by=self.staff,
                note="Sends students to PayPal.",
                pause_sales=pause,
            )

    def lift(self) -> FraudSignal:
        with self.captureOnCommitCallbacks(execute=True):
            return fraud_review.lift_pause(signal=self.signal, by=self.staff)

    def emails(self, subject: str) -> list[Any]:
        return [
            m for m in mail.outbox if m.to == [self.alice.email] and m.subject.endswith(subject)
        ]

    def test_escalating_with_a_pause_stops_checkout_with_the_gate_message(self) -> None:
        signal = self.escalate()
        assert (signal.status, signal.reviewed_by, signal.pauses_sales) == (
            "escalated",
            self.staff,
            True,
        )
        assert gate.refusal(self.alice.pk) == gate.PAUSED_WORDS
        client = self.new_client(self.bob)
        response = client.post(reverse("billing:checkout", args=[self.course.slug]))
        assert response.status_code == 302
        page = client.get(response["Location"])
        self.assertContains(page, "sales are paused while we review their account")
        assert not Purchase.objects.exists()
        assert not [c for c in self.stripe.calls if c["path"] == "/v1/checkout/sessions"]

    def test_students_already_enrolled_keep_their_access(self) -> None:
        Enrollment.objects.create(course=self.course, student=self.dave)
        self.escalate()
        page = self.new_client(self.dave).get(reverse("courses:course", args=[self.course.slug]))
        assert page.status_code == 200

    def test_the_storefront_says_sales_are_paused_until_the_pause_is_lifted(self) -> None:
        page = reverse("storefront:course", args=[self.course.slug])
        words = "sales are paused while we review their account"
        self.assertNotContains(self.client.get(page), words)
        self.escalate()
        self.assertContains(self.client.get(page), words)
        self.assertContains(self.new_client(self.bob).get(page), words)
        self.lift()
        self.assertNotContains(self.client.get(page), words)

    def test_lifting_the_pause_lets_students_buy_again(self) -> None:
        self.escalate()
        signal = self.lift()
        assert (signal.status, signal.resumed_by, signal.pauses_sales) == (
            "escalated",
            self.staff,
            False,
        )
        assert gate.refusal(self.alice.pk) == ""
        assert self.buy(self.bob)["Location"].startswith(f"{self.stripe.url}/pay/")

    def test_the_teacher_is_emailed_once_when_sales_pause_and_once_when_they_resume(self) -> None:
        self.escalate()
        with pytest.raises(fraud_review.ReviewError):
            self.escalate()
        [paused] = self.emails("Sales of your courses are paused")
        assert "Students already enrolled keep full access" in paused.body
        assert "PayPal" not in paused.body  # the staff note stays with staff
        self.lift()
        with pytest.raises(fraud_review.ReviewError, match="doesn't pause"):
            self.lift()
        assert len(self.emails("Sales of your courses are back on")) == 1
        assert len(self.emails("Sales of your courses are paused")) == 1

    def test_escalating_without_a_pause_leaves_sales_alone_and_can_pause_later(self) -> None:
        self.escalate(pause=False)
        assert gate.refusal(self.alice.pk) == ""
        assert not mail.outbox
        with self.captureOnCommitCallbacks(execute=True):
            signal = fraud_review.escalate_signal(
                signal=self.signal, by=self.staff, note="It went on.", pause_sales=True
            )
        assert signal.pauses_sales
        assert signal.review_note == "Sends students to PayPal.\n\nIt went on."
        assert len(self.emails("Sales of your courses are paused")) == 1

    def test_dismissing_needs_a_note_and_an_open_signal(self) -> None:
        with pytest.raises(fraud_review.ReviewError, match="Write a note"):
            fraud_review.dismiss_signal(signal=self.signal, by=self.staff, note="  ")
        self.escalate(pause=False)
        with pytest.raises(fraud_review.ReviewError, match="this one is escalated"):
            fraud_review.dismiss_signal(signal=self.signal, by=self.staff, note="No.")


# --- The admin review queue ------------------------------------------------------------------


class AdminQueueTests(LecternTestCase):
    changelist = reverse("admin:billing_fraudsignal_changelist")

    def setUp(self) -> None:
        self.login(self.staff)
        self.old = FraudSignal.objects.create(
            teacher=self.carol, rule=Rule.REFUND_RATE, summary="Carol refunds",
            created_at=timezone.now() - timedelta(days=3),
        )  # fmt: skip
        self.reviewed = FraudSignal.objects.create(
            teacher=self.alice, rule=Rule.COUPON_RATE, summary="Alice coupons, dismissed",
            status=Status.DISMISSED,
        )  # fmt: skip
        self.open = FraudSignal.objects.create(
            teacher=self.alice,
            rule=Rule.OFF_PLATFORM_LINK,
            summary="Alice links",
            evidence={
                "links": [
                    {"in": "course", "course_id": 7, "field": "description",
                     "provider": "PayPal", "url": "paypal.me/<b>x</b>", "snippet": "Pay me"}
                ],
                "purchase_ids": [3, 4],
            },
        )  # fmt: skip

    def act(self, action: str, *signals: FraudSignal, **data: Any) -> Any:
        with self.captureOnCommitCallbacks(execute=True):
            return self.client.post(
                self.changelist,
                {"action": action, "_selected_action": [s.pk for s in signals], **data},
            )

    def test_open_signals_come_first(self) -> None:
        page = self.client.get(self.changelist).content.decode()
        order = [page.index(s) for s in ("Alice links", "Carol refunds", "Alice coupons")]
        assert order == sorted(order)

    def test_it_searches_by_teacher_email_and_filters_by_rule_and_status(self) -> None:
        page = self.client.get(self.changelist, {"q": "carol@example.com"})
        self.assertContains(page, "Carol refunds")
        self.assertNotContains(page, "Alice links")
        page = self.client.get(
            self.changelist, {"rule__exact": "coupon_rate", "status__exact": "dismissed"}
        )
        self.assertContains(page, "Alice coupons")
        self.assertNotContains(page, "Alice links")

    def test_the_evidence_is_shown_as_a_table(self) -> None:
        page = self.client.get(reverse("admin:billing_fraudsignal_change", args=[self.open.pk]))
        self.assertContains(page, "<th>Provider</th>", html=False)
        self.assertContains(page, "<code>paypal.me/&lt;b&gt;x&lt;/b&gt;</code>", html=False)
        self.assertContains(page, "?id__in=3,4")
        self.assertContains(page, "alice@example.com")

    def test_dismissing_asks_for_a_note_then_dismisses(self) -> None:
        form = self.act("dismiss", self.open)
        self.assertContains(form, "the next reviewer reads it")
        refused = self.act("dismiss", self.open, apply="Dismiss", note="")
        self.assertContains(refused, "This field is required", status_code=400)
        self.open.refresh_from_db()
        assert self.open.status == "open"
        done = self.act("dismiss", self.open, apply="Dismiss", note="A tip jar.")
        assert done.status_code == 302
        self.open.refresh_from_db()
        assert (self.open.status, self.open.reviewed_by, self.open.review_note) == (
            "dismissed",
            self.staff,
            "A tip jar.",
        )

    def test_escalating_with_a_pause_then_lifting_it_emails_the_teacher(self) -> None:
        self.act("escalate_and_pause", self.open, apply="Escalate", note="Off-platform sales.")
        self.open.refresh_from_db()
        assert self.open.pauses_sales
        self.act("lift_pause", self.open)
        self.open.refresh_from_db()
        assert (self.open.pauses_sales, self.open.resumed_by) == (False, self.staff)
        subjects = [m.subject for m in mail.outbox if m.to == [self.alice.email]]
        assert len(subjects) == 2

    def test_a_step_that_doesnt_apply_is_reported_not_raised(self) -> None:
        response = self.act("lift_pause", self.reviewed)
        assert response.status_code == 302
        page = self.client.get(response["Location"])
        self.assertContains(page, "doesn&#x27;t pause the teacher&#x27;s sales")

    def test_signals_cant_be_added_or_deleted_by_hand(self) -> None:
        assert self.client.get(reverse("admin:billing_fraudsignal_add")).status_code == 403
        delete = reverse("admin:billing_fraudsignal_delete", args=[self.open.pk])
        assert self.client.get(delete).status_code == 403

    def test_the_queue_runs_as_many_queries_for_many_signals(self) -> None:
        def more(n: int) -> None:
            for teacher in TeacherFactory.create_batch(n):
                FraudSignal.objects.create(teacher=teacher, rule=Rule.CARD_TESTING, summary="x",
                                           reviewed_by=self.staff)  # fmt: skip

        assert_constant_queries(self, self.changelist, more, counts=(5, 40))

    def test_card_failures_are_listed_read_only(self) -> None:
        CardFailure.objects.create(teacher=self.alice, stripe_id="ch_declined_1")
        page = self.client.get(reverse("admin:billing_cardfailure_changelist"))
        self.assertContains(page, "ch_declined_1")
        assert self.client.get(reverse("admin:billing_cardfailure_add")).status_code == 403


# --- Checkout rate limits --------------------------------------------------------------------


@override_settings(CHECKOUTS_PER_STUDENT_PER_HOUR=3, CHECKOUTS_PER_IP_PER_HOUR=5)
class CheckoutRateLimitTests(Buying):
    def checkouts(self) -> int:
        return len([c for c in self.stripe.calls if c["path"] == "/v1/checkout/sessions"])

    def test_a_student_starting_too_many_checkouts_is_told_to_wait(self) -> None:
        with fresh_rate_window(3600):
            client = self.new_client(self.bob)
            url = reverse("billing:checkout", args=[self.course.slug])
            for code in ("", "a", "b"):  # each a fresh checkout
                assert client.post(url, {"code": code}).status_code == 302
            response = client.post(url)
        assert response.status_code == 429
        self.assertContains(response, "Too many attempts", status_code=429)
        assert 0 < int(response["Retry-After"]) <= 3600
        assert Purchase.objects.filter(student=self.bob).count() <= 3

    def test_one_address_is_limited_whoever_is_signed_in(self) -> None:
        people = StudentFactory.create_batch(6)
        with fresh_rate_window(3600):
            answers = [self.buy(person).status_code for person in people]
            elsewhere = self.buy(self.bob, REMOTE_ADDR="203.0.113.9").status_code
        assert answers == [302] * 5 + [429]
        assert elsewhere == 302

    def test_a_visitor_is_limited_by_address(self) -> None:
        with fresh_rate_window(3600):
            answers = [
                self.client.post(
                    reverse("billing:checkout", args=[self.course.slug]),
                    {"email": f"v{i}@example.com", "first_name": "V", "last_name": "W"},
                ).status_code
                for i in range(6)
            ]
        assert answers[-1] == 429
        assert 429 not in answers[:5]
