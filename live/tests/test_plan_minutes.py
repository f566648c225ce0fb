"""The teacher's live participant-minutes this month, on the Plan & billing page."""

import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from billing.tests.plan_kit import PlanTestCase
from courses.tests.factories import CourseFactory, CourseItemFactory
from live import services
from live.models import Participation
from live.tests.kit import livekit_on

PLAN = reverse("billing:plan")


@livekit_on
class PlanMinutesTests(PlanTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.month_start = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)

    def room(self, teacher=None):
        course = CourseFactory.create(teacher=teacher or self.alice)
        return services.ensure_room(item=CourseItemFactory.create(course=course, session=True))

    def minutes(self, room, identity: str, *, joined, seconds: int) -> None:
        Participation.objects.create(
            room=room, identity=identity, first_joined_at=joined, seconds=seconds
        )

    def live_usage(self) -> str:
        page = self.login(self.alice).get(PLAN)
        assert page.status_code == 200
        html = page.content.decode()
        start = html.index('id="usage-live"')
        return " ".join(html[start : html.index("</li>", start)].split())

    def test_it_shows_this_months_minutes_against_the_plans_allowance(self) -> None:
        room = self.room()
        this_month = self.month_start + timedelta(minutes=1)
        self.minutes(room, "teacher", joined=this_month, seconds=90 * 60)
        for n in range(3):
            self.minutes(room, f"student{n}", joined=this_month, seconds=45 * 60 + 10)
        self.minutes(
            self.room(), "last-month", joined=self.month_start - timedelta(hours=1), seconds=6000
        )
        self.minutes(self.room(self.carol), "carols", joined=this_month, seconds=6000)

        usage = self.live_usage()

        # 90 + 3 x 45 1/6 minutes = 225.5, rounded; Free allows 300 a month.
        assert re.search(r"\b226 of 300\b", usage), usage
        assert 'value="226"' in usage
        assert "Everyone&#x27;s minutes in your live classes, you included" in usage

    def test_it_says_when_the_allowance_is_used_up(self) -> None:
        self.minutes(self.room(), "a", joined=self.month_start, seconds=301 * 60)

        usage = self.live_usage()

        assert "301 of 300" in usage
        assert "<strong>Over your plan" in usage
        assert "is-over" in usage
