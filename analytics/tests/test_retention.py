"""The visitor lookup is deleted after 30 days by the retention sweep; the counts stay."""

from datetime import UTC, datetime, time, timedelta

import time_machine
from django.utils import timezone

from analytics.models import CourseDay, VisitorDay
from courses.tests.factories import CourseFactory
from privacy import retention
from tests.base import LecternTestCase


class LookupRetentionTest(LecternTestCase):
    def test_it_prunes_the_lookup_after_thirty_days(self) -> None:
        today = timezone.now().date()
        VisitorDay.objects.create(day=today - timedelta(days=31), digest="a" * 32)
        VisitorDay.objects.create(day=today - timedelta(days=30), digest="b" * 32)
        VisitorDay.objects.create(day=today, digest="c" * 32)
        course = CourseFactory.create(teacher=self.alice)
        CourseDay.objects.create(
            teacher=self.alice, course=course, day=today - timedelta(days=400), views=3, visitors=2
        )
        results = retention.sweep_all()
        assert results["Storefront visitor lookups"] == 1
        assert set(VisitorDay.objects.values_list("digest", flat=True)) == {"b" * 32, "c" * 32}
        assert CourseDay.objects.count() == 1

    def test_it_prunes_a_day_once_it_is_thirty_days_old(self) -> None:
        day = timezone.now().date()
        VisitorDay.objects.create(day=day, digest="d" * 32)
        noon = datetime.combine(day, time(12), tzinfo=UTC)
        with time_machine.travel(noon + timedelta(days=30)):
            retention.sweep_all()
            assert VisitorDay.objects.exists()
        with time_machine.travel(noon + timedelta(days=31)):
            retention.sweep_all()
            assert not VisitorDay.objects.exists()
