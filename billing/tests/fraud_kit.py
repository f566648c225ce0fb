"""What the fraud tests build on: recorded sales, a course on sale through the local Stripe."""

import json
from typing import Any

from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from billing.models import FraudSignal, Purchase
from billing.tests.fake_stripe import post_event, serve_for
from billing.tests.kit import seller
from courses.models import Course
from courses.tests.factories import CourseFactory
from tests.base import LecternTestCase


def no_personal_data(signal: FraudSignal, *people: User) -> None:
    """Signals outlive accounts: their evidence holds no one's name or email address."""
    text = json.dumps(signal.evidence).lower() + signal.summary.lower()
    for person in people:
        for value in (person.email, person.first_name, person.last_name):
            assert value.lower() not in text, value


def sale(course: Course, student: User | None, **fields: Any) -> Purchase:
    """Record a paid purchase of `course` by `student` (now, full price, unless told otherwise)."""
    amount = fields.pop("amount", 5000)
    discount = fields.pop("discount_amount", 0)
    return Purchase.objects.create(
        teacher=course.teacher,
        student=student,
        course=course,
        course_title=course.title,
        connect_account_id=f"acct_test_{course.teacher_id}",
        gross_amount=amount + discount,
        discount_amount=discount,
        amount=amount,
        currency=course.currency,
        status=fields.pop("status", Purchase.Status.PAID),
        paid_at=fields.pop("paid_at", timezone.now()),
        **fields,
    )


class Buying(LecternTestCase):
    """alice sells a course through the local Stripe; bob has a checkout open."""

    def setUp(self) -> None:
        self.stripe = serve_for(self)
        seller(self.alice, account_id="acct_test_alice")
        self.stripe.accounts["acct_test_alice"] = {"id": "acct_test_alice", "charges_enabled": True}
        self.course = CourseFactory.create(teacher=self.alice, slug="kiln", price_amount=12000)

    def buy(self, student: User, **extra: Any) -> Any:
        client = self.new_client(student, **extra)
        return client.post(reverse("billing:checkout", args=[self.course.slug]))

    def deliver(self, *events: dict[str, Any]) -> None:
        for event in events:
            with self.captureOnCommitCallbacks(execute=True):
                assert post_event(self.client, event).status_code == 200
