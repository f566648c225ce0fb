"""The Traffic pages: the course's teacher only, the figures and charts, a fixed query count."""

from datetime import timedelta
from itertools import count

from django.urls import reverse
from django.utils import timezone

from analytics.models import CourseDay
from courses.models import Course
from courses.tests.factories import CourseFactory
from tests.base import LecternTestCase, assert_constant_queries


class TrafficPageTest(LecternTestCase):
    course: Course
    url: str

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.course = CourseFactory.create(teacher=cls.alice, slug="botany", title="Botany walks")
        cls.url = reverse("analytics:course_traffic", args=["botany"])
        today = timezone.localdate()
        CourseDay.objects.create(
            teacher=cls.alice, course=cls.course, day=today, utm_source="newsletter",
            views=40, visitors=25, clicks=8, registrations=5, enrolments=4, purchases=2,
        )  # fmt: skip
        CourseDay.objects.create(
            teacher=cls.alice, course=cls.course, day=today - timedelta(days=1),
            referrer_domain="news.example.org", views=10, visitors=7, clicks=1,
        )  # fmt: skip
        CourseDay.objects.create(
            teacher=cls.alice, course=cls.course, day=today - timedelta(days=200), views=99
        )

    def test_it_shows_the_figures_charts_and_sources(self) -> None:
        self.login(self.alice)
        response = self.client.get(self.url)
        assert response.status_code == 200
        page = response.content.decode()
        assert "Botany walks" in page
        report = response.context["report"]
        assert (report.totals.views, report.totals.visitors, report.totals.enrolments) == (
            50,
            32,
            4,
        )
        assert [s.name for s in report.sources] == ["newsletter", ""]
        assert [r.name for r in report.referrers] == ["", "news.example.org"]
        assert page.count('<svg class="traffic-chart') == 4
        assert 'role="img"' in page
        assert "<desc" in page
        assert "news.example.org" in page
        assert "newsletter" in page
        assert "18.0% of the step before" in page  # 9 clicks of 50 views

    def test_it_offers_longer_periods(self) -> None:
        self.login(self.alice)
        assert self.client.get(self.url).context["report"].totals.views == 50
        assert self.client.get(self.url + "?days=365").context["report"].totals.views == 149
        assert len(self.client.get(self.url + "?days=90").context["report"].series) == 90

    def test_it_refuses_a_period_it_does_not_offer(self) -> None:
        self.login(self.alice)
        response = self.client.get(self.url + "?days=7")
        assert response.status_code == 400
        assert b"30, 90, 365" in response.content

    def test_it_is_the_course_teachers_only(self) -> None:
        for person in (self.bob, self.carol, self.staff):
            self.login(person)
            assert self.client.get(self.url).status_code == 404

    def test_it_shows_every_page_of_the_teacher(self) -> None:
        other = CourseFactory.create(teacher=self.alice, title="Lichens")
        CourseDay.objects.create(
            teacher=self.alice, course=other, day=timezone.localdate(), views=5
        )
        CourseDay.objects.create(teacher=self.alice, day=timezone.localdate(), views=6)
        self.login(self.alice)
        response = self.client.get(reverse("analytics:traffic"))
        assert response.context["report"].totals.views == 61
        titles = [c.title for c in response.context["report"].courses]
        assert titles == ["Botany walks", "Your teacher page", "Lichens"]

    def test_it_says_what_to_do_without_visits(self) -> None:
        self.login(self.carol)
        response = self.client.get(reverse("analytics:traffic"))
        self.assertContains(response, "No visits in the last 30 days")

    def test_it_links_from_the_course_page(self) -> None:
        self.login(self.alice)
        response = self.client.get(reverse("courses:teach_course", args=["botany"]))
        self.assertContains(response, self.url)

    def test_it_makes_as_many_queries_for_365_days_as_for_10(self) -> None:
        course = CourseFactory.create(teacher=self.carol, slug="moss")
        days = count()
        start = timezone.localdate()

        def make_rows(n: int) -> None:
            CourseDay.objects.bulk_create(
                CourseDay(
                    teacher=self.carol, course=course, day=start - timedelta(days=next(days)),
                    utm_source=f"s{n % 7}", views=3, visitors=2,
                )
                for _ in range(n)
            )  # fmt: skip

        self.login(self.carol)
        url = reverse("analytics:course_traffic", args=["moss"]) + "?days=365"
        assert_constant_queries(self, url, make_rows, counts=(10, 365))
        assert_constant_queries(self, reverse("analytics:traffic") + "?days=365", lambda n: None)
