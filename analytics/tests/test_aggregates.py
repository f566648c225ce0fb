"""The daily rows equal what was sent: views, unique visitors, clicks and conversions by source."""

from types import SimpleNamespace

from django.test import Client, TransactionTestCase
from django.urls import reverse

from accounts.models import User
from analytics import counters, selectors
from analytics.models import Attribution, CourseDay
from analytics.tests.kit import flush, with_analytics
from billing import signals as billing_signals
from billing.models import Purchase
from courses.models import Course
from courses.tests.factories import CourseFactory
from tests.base import PASSWORD, LecternTestCase, make_people


def _rows() -> dict[tuple[str, str], tuple[int, ...]]:
    return {
        (r.utm_source, r.referrer_domain): (
            r.views, r.visitors, r.clicks, r.registrations, r.enrolments, r.purchases
        )
        for r in CourseDay.objects.filter(course__isnull=False)
    }  # fmt: skip


@with_analytics
class AggregatesTest(LecternTestCase):
    course: Course
    url: str

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.course = CourseFactory.create(teacher=cls.alice, slug="ceramics")
        cls.url = reverse("storefront:course", args=["ceramics"])

    def setUp(self) -> None:
        counters.take_local()

    def test_it_counts_views_and_unique_visitors_by_source(self) -> None:
        newsletter, news, private = self.new_client(), self.new_client(), self.new_client()
        newsletter.get(self.url + "?utm_source=newsletter")
        newsletter.get(self.url)
        newsletter.get(self.url)
        news.get(self.url, HTTP_REFERER="https://news.example.org/a")
        news.get(self.url)
        private.get(self.url, HTTP_SEC_GPC="1")
        private.get(self.url, HTTP_SEC_GPC="1")
        flush()
        assert _rows() == {
            ("newsletter", ""): (3, 1, 0, 0, 0, 0),
            ("", "news.example.org"): (2, 1, 0, 0, 0, 0),
            ("", ""): (2, 0, 0, 0, 0, 0),
        }
        # The same visitors again the same day: more views, no more visitors.
        newsletter.get(self.url)
        flush()
        assert _rows()[("newsletter", "")] == (4, 1, 0, 0, 0, 0)

    def test_it_counts_many_visitors_exactly(self) -> None:
        for n in range(12):
            client = self.new_client()
            for _ in range(n % 3 + 1):
                client.get(self.url + f"?utm_source=s{n % 2}")
        flush()
        assert _rows() == {("s0", ""): (12, 6, 0, 0, 0, 0), ("s1", ""): (12, 6, 0, 0, 0, 0)}

    def test_it_counts_a_teachers_page_apart(self) -> None:
        User.objects.filter(pk=self.alice.pk).update(handle="alice-clay")
        self.client.get(reverse("storefront:teacher_page", args=["alice-clay"]))
        flush()
        row = CourseDay.objects.get(course__isnull=True)
        assert (row.teacher_id, row.views, row.visitors) == (self.alice.pk, 1, 1)

    def test_it_counts_a_registration_and_keeps_its_source(self) -> None:
        visitor = self.new_client()
        visitor.get(self.url + "?utm_source=newsletter&utm_campaign=spring")
        response = visitor.post(
            reverse("courses:register", args=["ceramics"]),
            {"first_name": "Erin", "last_name": "Lee", "email": "erin@example.org"},
        )
        assert response.status_code == 200, response.content
        flush()
        assert _rows() == {("newsletter", ""): (1, 1, 1, 1, 0, 0)}
        erin = User.objects.get(email="erin@example.org")
        source = selectors.source_for(erin)
        assert source is not None
        assert (source.utm_source, source.utm_campaign, source.landing_path) == (
            "newsletter",
            "spring",
            "/c/ceramics/",
        )
        assert source.label == "newsletter"

    def test_it_keeps_no_source_for_a_browser_that_opted_out(self) -> None:
        visitor = self.new_client(HTTP_SEC_GPC="1")
        visitor.get(self.url + "?utm_source=newsletter")
        visitor.post(
            reverse("courses:register", args=["ceramics"]),
            {"first_name": "Erin", "last_name": "Lee", "email": "erin@example.org"},
        )
        flush()
        assert not Attribution.objects.exists()
        assert _rows() == {("", ""): (1, 0, 1, 1, 0, 0)}

    def test_it_counts_a_purchase_from_the_buyers_first_visit(self) -> None:
        Attribution.objects.create(user=self.bob, utm_source="podcast")
        purchase = SimpleNamespace(course_id=self.course.pk, student_id=self.bob.pk)
        billing_signals.purchase_paid.send(sender=Purchase, purchase=purchase)
        flush()
        assert _rows() == {("podcast", ""): (0, 0, 0, 0, 0, 1)}

    def test_it_loses_nothing_when_a_flush_finds_nothing(self) -> None:
        assert flush().rows == 0
        self.client.get(self.url)
        assert flush().rows == 1
        assert flush().rows == 0
        assert _rows() == {("", ""): (1, 1, 0, 0, 0, 0)}


@with_analytics
class EnrolmentSourceTest(TransactionTestCase):
    """Enrolments are heard once their transaction commits, so these tests really commit."""

    def setUp(self) -> None:
        counters.take_local()
        self.people = make_people()
        self.course = CourseFactory.create(teacher=self.people["alice"], slug="glazes")

    def test_it_counts_an_enrolment_from_the_visits_source(self) -> None:
        client = Client()
        client.login(email=self.people["bob"].email, password=PASSWORD)
        client.get(
            reverse("storefront:course", args=["glazes"]), HTTP_REFERER="https://news.example.org/"
        )
        response = client.post(reverse("courses:enroll", args=["glazes"]))
        assert response.status_code == 302
        flush()
        assert _rows() == {("", "news.example.org"): (1, 1, 1, 0, 1, 0)}
