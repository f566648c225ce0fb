"""Coupons: made by the teacher, typed by the student, counted once the payment goes through."""

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import TransactionTestCase, override_settings
from django.urls import reverse
from django.utils import timezone

from billing.models import Coupon, CouponRedemption, Purchase
from billing.services import checkout, pricing
from billing.tests.fake_stripe import FakeStripe, post_event, serve_for
from billing.tests.kit import seller
from core.testing import requires_postgres
from courses.models import Enrollment
from courses.tests.factories import CourseFactory
from tests.base import LecternTestCase, StudentFactory, TeacherFactory


class _Selling(LecternTestCase):
    def setUp(self) -> None:
        self.stripe = serve_for(self)
        seller(self.alice, account_id="acct_test_alice")
        self.stripe.accounts["acct_test_alice"] = {"id": "acct_test_alice", "charges_enabled": True}
        self.course = CourseFactory.create(
            teacher=self.alice, slug="raku", price_amount=10000, currency="EUR"
        )


class TeacherCouponTests(_Selling):
    def create(self, **data: Any) -> Any:
        form = {
            "code": "SPRING",
            "kind": "percent",
            "value": "25",
            "once_per_student": "on",
            "active": "on",
            **data,
        }
        return self.login(self.alice).post(reverse("billing:coupons"), form)

    def test_a_teacher_makes_a_coupon_for_one_course(self) -> None:
        response = self.create(course=str(self.course.pk), max_redemptions="10")
        assert response.status_code == 302
        coupon = Coupon.objects.get()
        assert (coupon.code, coupon.percent_off, coupon.course) == ("SPRING", 25, self.course)
        page = self.client.get(reverse("billing:coupons"))
        self.assertContains(page, "25% off")

    def test_codes_are_unique_per_teacher_whatever_their_case(self) -> None:
        self.create()
        response = self.create(code="spring")
        self.assertContains(response, "You already have a code", status_code=400)
        assert Coupon.objects.count() == 1
        other = self.new_client(self.carol).post(
            reverse("billing:coupons"), {"code": "spring", "kind": "percent", "value": "10"}
        )
        assert other.status_code == 302  # carol's own "spring" is hers

    def test_an_amount_off_is_in_the_courses_currency(self) -> None:
        self.create(kind="amount", value="15.50", course=str(self.course.pk))
        coupon = Coupon.objects.get()
        assert (coupon.amount_off, coupon.currency, coupon.percent_off) == (1550, "EUR", None)

    def test_bad_input_gets_messages_not_errors(self) -> None:
        for data in (
            {"value": "150"},
            {"value": "12.5"},
            {"kind": "amount", "value": "1e309"},
            {"kind": "amount", "value": "5"},  # all courses: which currency?
            {"code": "no spaces!"},
            {"course": "999999"},
            {"starts_on": "2027-02-01", "ends_on": "2027-01-01"},
        ):
            response = self.create(**data)
            assert response.status_code == 400, data
        assert not Coupon.objects.exists()

    def test_another_teachers_coupon_is_not_found(self) -> None:
        self.create()
        coupon = Coupon.objects.get()
        other = self.new_client(self.carol)
        assert other.get(reverse("billing:coupon", args=[coupon.pk])).status_code == 404
        assert other.post(reverse("billing:coupon", args=[coupon.pk]), {}).status_code == 404

    def test_switching_a_coupon_off_stops_it(self) -> None:
        self.create()
        coupon = Coupon.objects.get()
        self.client.post(
            reverse("billing:coupon", args=[coupon.pk]),
            {"code": "SPRING", "kind": "percent", "value": "25"},
        )
        coupon.refresh_from_db()
        assert not coupon.active
        with pytest.raises(pricing.CouponError, match="no longer active"):
            pricing.quote(course=self.course, code="spring", student=self.bob)


class StudentCouponTests(_Selling):
    def test_the_enrol_box_shows_the_new_price_before_checkout(self) -> None:
        Coupon.objects.create(teacher=self.alice, code="HALF", percent_off=50)
        url = reverse("billing:price", args=["raku"])
        page = self.login(self.bob).get(url, {"code": "half"})
        self.assertContains(page, "€50.00")
        self.assertContains(page, "€50.00 off")

    def test_invalid_expired_and_used_up_codes_are_refused_clearly(self) -> None:
        url = reverse("billing:price", args=["raku"])
        self.login(self.bob)
        self.assertContains(self.client.get(url, {"code": "NOPE"}), "a code for this course")
        Coupon.objects.create(
            teacher=self.alice,
            code="OLD",
            percent_off=10,
            expires_at=timezone.now() - timedelta(days=1),
        )
        self.assertContains(self.client.get(url, {"code": "old"}), "has expired")
        Coupon.objects.create(
            teacher=self.alice, code="GONE", percent_off=10, max_redemptions=3, times_redeemed=3
        )
        self.assertContains(self.client.get(url, {"code": "gone"}), "used up")
        other_course = CourseFactory.create(teacher=self.alice)
        Coupon.objects.create(teacher=self.alice, code="ELSE", percent_off=10, course=other_course)
        self.assertContains(self.client.get(url, {"code": "else"}), "This code isn")
        response = self.client.post(reverse("billing:checkout", args=["raku"]), {"code": "gone"})
        assert response["Location"] == self.course.get_absolute_url()
        assert not Purchase.objects.exists()

    def test_a_code_is_charged_and_redeemed_once_paid(self) -> None:
        Coupon.objects.create(teacher=self.alice, code="TEN", amount_off=1000, currency="EUR")
        self.login(self.bob).post(reverse("billing:checkout", args=["raku"]), {"code": "ten"})
        purchase = Purchase.objects.get()
        assert (purchase.gross_amount, purchase.discount_amount, purchase.amount) == (
            10000,
            1000,
            9000,
        )
        assert purchase.application_fee_amount == 450
        assert not CouponRedemption.objects.exists()  # not until it is paid
        session = self.stripe.pay(purchase.checkout_session_id)
        with self.captureOnCommitCallbacks(execute=True):
            post_event(self.client, self.stripe.event("checkout.session.completed", session))
        redemption = CouponRedemption.objects.get()
        assert (redemption.discount_amount, redemption.student) == (1000, self.bob)

    def test_a_free_coupon_enrols_without_stripe(self) -> None:
        Coupon.objects.create(teacher=self.alice, code="GIFT", percent_off=100)
        with self.captureOnCommitCallbacks(execute=True):
            response = self.login(self.bob).post(
                reverse("billing:checkout", args=["raku"]), {"code": "gift"}
            )
        assert response["Location"] == reverse("courses:course", args=["raku"])
        purchase = Purchase.objects.get()
        assert (purchase.status, purchase.amount, purchase.payment_intent_id) == ("paid", 0, None)
        assert Enrollment.objects.get(student=self.bob).status == "active"
        assert CouponRedemption.objects.count() == 1
        assert not [c for c in self.stripe.calls if c["path"].startswith("/v1/checkout")]

    def test_the_last_use_of_a_code_goes_to_one_buyer(self) -> None:
        Coupon.objects.create(teacher=self.alice, code="LAST", percent_off=20, max_redemptions=1)
        self.login(self.bob).post(reverse("billing:checkout", args=["raku"]), {"code": "last"})
        second = self.new_client(self.dave).post(
            reverse("billing:checkout", args=["raku"]), {"code": "last"}
        )
        assert second["Location"] == self.course.get_absolute_url()
        assert Purchase.objects.count() == 1
        # The first checkout is abandoned: the code can be used again.
        purchase = Purchase.objects.get()
        session = self.stripe.expire(purchase.checkout_session_id)
        with self.captureOnCommitCallbacks(execute=True):
            post_event(self.client, self.stripe.event("checkout.session.expired", session))
        third = self.new_client(self.dave).post(
            reverse("billing:checkout", args=["raku"]), {"code": "last"}
        )
        assert third["Location"].startswith(self.stripe.url)

    def test_a_new_code_replaces_an_open_checkout(self) -> None:
        Coupon.objects.create(teacher=self.alice, code="FIVE", percent_off=5)
        client = self.login(self.bob)
        first = client.post(reverse("billing:checkout", args=["raku"]))
        second = client.post(reverse("billing:checkout", args=["raku"]), {"code": "five"})
        assert first["Location"] != second["Location"]
        statuses = sorted(Purchase.objects.values_list("status", flat=True))
        assert statuses == ["expired", "pending"]
        old = Purchase.objects.get(status="expired")
        assert self.stripe.sessions[old.checkout_session_id]["status"] == "expired"


@requires_postgres
class CouponRaceTests(TransactionTestCase):
    """Two buyers press Buy with the last use of a code at the same moment."""

    def test_one_of_two_buyers_at_once_gets_the_last_use(self) -> None:
        teacher = TeacherFactory.create()
        seller(teacher, account_id="acct_test_race")
        course = CourseFactory.create(teacher=teacher, price_amount=5000, capacity=None)
        Coupon.objects.create(teacher=teacher, code="RACE", percent_off=50, max_redemptions=1)
        buyers = [StudentFactory.create(), StudentFactory.create()]
        outcomes: list[str] = []
        barrier = threading.Barrier(2)
        with FakeStripe() as stripe, override_settings(STRIPE_API_BASE=stripe.url):
            stripe.accounts["acct_test_race"] = {"id": "acct_test_race", "charges_enabled": True}

            def buy(student: Any) -> None:
                barrier.wait()
                try:
                    checkout.start_checkout(
                        course=course, student=student, code="race", base_url="http://testserver"
                    )
                    outcomes.append("checkout")
                except checkout.CheckoutRefusedError as refused:
                    outcomes.append(refused.message)
                finally:
                    connection.close()

            threads = [threading.Thread(target=buy, args=(b,)) for b in buyers]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        assert sorted(outcomes) == ["This code has been used up.", "checkout"]
        assert Purchase.objects.filter(coupon__code="RACE").count() == 1
