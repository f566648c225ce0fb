"""The facts the visitors' page is checked against on every visit: the enrolment policy's."""

from datetime import timedelta

import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from courses.models import Enrollment
from courses.tests.factories import CourseFactory, EnrollmentFactory
from storefront import views as storefront
from tests.base import LecternTestCase


class PageFactsTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, slug="open", capacity=4)
        EnrollmentFactory.create_batch(2, course=self.course)
        EnrollmentFactory.create(course=self.course, status=Enrollment.Status.LEFT)
        self.expires = timezone.now() + timedelta(hours=2)
        EnrollmentFactory.create(
            course=self.course,
            status=Enrollment.Status.HELD,
            hold_reason=Enrollment.HoldReason.GUEST,
            hold_expires_at=self.expires,
        )
        self.url = reverse("storefront:course", args=["open"])

    def test_it_counts_active_enrolments_and_holds_until_they_expire(self) -> None:
        facts = storefront.page_facts("open")
        assert facts is not None
        assert facts.seats_taken == 3
        assert "1</strong> seat left" in Client().get(self.url).content.decode()
        with time_machine.travel(self.expires + timedelta(seconds=1)):
            facts = storefront.page_facts("open")
            assert facts is not None
            assert facts.seats_taken == 2
            assert "2</strong> seats left" in Client().get(self.url).content.decode()

    def test_it_hides_the_page_once_the_teacher_is_switched_off(self) -> None:
        assert Client().get(self.url).status_code == 200
        self.alice.is_active = False
        self.alice.save(update_fields=["is_active"])
        assert Client().get(self.url).status_code == 404

    def test_it_answers_none_for_an_unknown_course(self) -> None:
        assert storefront.page_facts("nope") is None

    def test_it_takes_one_query(self) -> None:
        storefront.page_facts("open")
        with self.assertNumQueries(1):
            storefront.page_facts("open")
