"""The facts the visitors' page is checked against: the enrolment policy's, read in one query."""

from datetime import timedelta

import time_machine
from django.utils import timezone

from courses import enrolment_policy
from courses.models import Enrollment
from courses.tests.factories import CourseFactory, EnrollmentFactory
from courses.views import storefront
from tests.base import LecternTestCase


class PageFactsTests(LecternTestCase):
    def setUp(self) -> None:
        self.open = CourseFactory.create(teacher=self.alice, slug="open", capacity=4)
        EnrollmentFactory.create_batch(2, course=self.open)
        EnrollmentFactory.create(course=self.open, status=Enrollment.Status.LEFT)
        self.expires = timezone.now() + timedelta(hours=2)
        EnrollmentFactory.create(
            course=self.open,
            status=Enrollment.Status.HELD,
            hold_reason=Enrollment.HoldReason.GUEST,
            hold_expires_at=self.expires,
        )
        CourseFactory.create(teacher=self.alice, slug="draft", draft=True)
        CourseFactory.create(teacher=self.alice, slug="paid", price_amount=4900)
        CourseFactory.create(teacher=self.carol, slug="archived", archived=True)

    def test_it_reads_what_the_enrolment_policy_reads(self) -> None:
        for slug in ("open", "draft", "paid", "archived", "nope"):
            assert storefront.page_facts(slug) == enrolment_policy.read_facts(slug), slug
        facts = storefront.page_facts("open")
        assert facts is not None
        assert (facts.seats_taken, facts.guest_holds) == (3, 1)

    def test_it_counts_a_hold_only_until_it_expires(self) -> None:
        storefront.page_facts("open")  # compiled now, read later
        with time_machine.travel(self.expires + timedelta(seconds=1)):
            facts = storefront.page_facts("open")
            assert facts == enrolment_policy.read_facts("open")
        assert facts is not None
        assert (facts.seats_taken, facts.guest_holds) == (2, 0)

    def test_it_sees_the_teacher_deactivated(self) -> None:
        CourseFactory.create(teacher=self.carol, slug="carols")
        self.carol.is_active = False
        self.carol.save(update_fields=["is_active"])
        facts = storefront.page_facts("carols")
        assert facts is not None
        assert not enrolment_policy.decide(facts).public_reachable

    def test_it_takes_one_query(self) -> None:
        storefront.page_facts("open")
        with self.assertNumQueries(1):
            storefront.page_facts("open")
