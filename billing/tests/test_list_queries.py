"""Billing's list pages run as many queries for 1,000 rows as for 10."""

from django.urls import reverse

from billing.models import Coupon, Purchase
from courses.tests.factories import CourseFactory
from tests.base import LecternTestCase, assert_constant_queries


class ListQueryTests(LecternTestCase):
    def test_a_students_purchases(self) -> None:
        course = CourseFactory.create(teacher=self.alice, price_amount=3000)

        def purchases(n: int) -> None:
            Purchase.objects.bulk_create(
                Purchase(
                    student=self.bob,
                    teacher=self.alice,
                    course=course,
                    course_title=course.title,
                    connect_account_id="acct_test_alice",
                    gross_amount=3000,
                    amount=3000,
                    currency="EUR",
                    status=Purchase.Status.PAID,
                    receipt_url="https://pay.example.org/receipts/1",
                )
                for _ in range(n)
            )

        self.login(self.bob)
        assert_constant_queries(self, reverse("billing:purchases"), purchases)

    def test_a_teachers_coupons(self) -> None:
        courses = [CourseFactory.create(teacher=self.alice) for _ in range(3)]
        made = [0]

        def coupons(n: int) -> None:
            Coupon.objects.bulk_create(
                Coupon(
                    teacher=self.alice,
                    course=courses[i % 3] if i % 4 else None,
                    code=f"CODE{made[0] + i}",
                    percent_off=10,
                )
                for i in range(n)
            )
            made[0] += n

        self.login(self.alice)
        assert_constant_queries(self, reverse("billing:coupons"), coupons)
