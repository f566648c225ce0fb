"""The analytics cookies: set on storefront pages with their flags and contents; GPC and DNT."""

from datetime import timedelta

from django.core import signing
from django.test import override_settings
from django.urls import reverse

from accounts.models import User
from analytics import counters, visits
from analytics.models import CourseDay
from analytics.tests.kit import flush, with_analytics
from courses.models import Course
from courses.tests.factories import CourseFactory
from privacy import cookies
from tests.base import LecternTestCase

NINETY_DAYS = 90 * 24 * 3600


@with_analytics
class AnalyticsCookiesTest(LecternTestCase):
    course: Course
    url: str

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.course = CourseFactory.create(teacher=cls.alice, slug="watercolour")
        User.objects.filter(pk=cls.alice.pk).update(handle="alice-paints")
        cls.alice.refresh_from_db()
        cls.url = reverse("storefront:course", args=["watercolour"])

    def setUp(self) -> None:
        counters.take_local()

    def test_it_sets_the_first_touch_cookie_with_its_flags(self) -> None:
        response = self.client.get(self.url, HTTP_REFERER="https://www.news.example.org/spring")
        cookie = response.cookies[visits.ATTRIB_COOKIE]
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Lax"
        assert cookie["max-age"] == NINETY_DAYS
        data = signing.loads(cookie.value, salt="analytics.cls_attrib")
        assert data["ref"] == "news.example.org"
        assert data["land"] == "/c/watercolour/"
        assert len(data["id"]) >= 20
        assert data["at"] > 0
        assert "private" in response["Cache-Control"]

    def test_it_marks_the_cookies_secure_as_the_session_cookie_is(self) -> None:
        for secure in (True, False):
            with override_settings(SESSION_COOKIE_SECURE=secure):
                response = self.new_client().get(self.url)
            assert bool(response.cookies[visits.ATTRIB_COOKIE]["secure"]) is secure

    def test_it_keeps_the_campaign_of_the_visit(self) -> None:
        response = self.client.get(
            self.url + "?utm_source=Newsletter&utm_medium=email&utm_campaign=spring"
            "&utm_term=paint&utm_content=top"
        )
        cookie = response.cookies[visits.UTM_COOKIE]
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Lax"
        assert cookie["max-age"] == 30 * 24 * 3600
        assert signing.loads(cookie.value, salt="analytics.cls_utm") == {
            "source": "newsletter",
            "medium": "email",
            "campaign": "spring",
            "term": "paint",
            "content": "top",
        }

    def test_it_sets_the_first_touch_once(self) -> None:
        self.client.get(self.url, HTTP_REFERER="https://first.example.org/")
        first = self.client.cookies[visits.ATTRIB_COOKIE].value
        response = self.client.get(self.url, HTTP_REFERER="https://second.example.org/")
        assert visits.ATTRIB_COOKIE not in response.cookies
        assert self.client.cookies[visits.ATTRIB_COOKIE].value == first
        assert "public" in response["Cache-Control"]

    def test_it_sets_them_on_a_teachers_page(self) -> None:
        response = self.client.get(reverse("storefront:teacher_page", args=[self.alice.handle]))
        assert visits.ATTRIB_COOKIE in response.cookies

    def test_it_sets_no_cookie_on_other_pages(self) -> None:
        response = self.client.get(reverse("account_login"))
        assert visits.ATTRIB_COOKIE not in response.cookies

    def test_it_refuses_a_forged_cookie(self) -> None:
        self.client.cookies[visits.ATTRIB_COOKIE] = "made-up"
        response = self.client.get(self.url)
        assert visits.ATTRIB_COOKIE in response.cookies  # a fresh, signed one

    def test_it_honours_global_privacy_control(self) -> None:
        response = self.client.get(self.url + "?utm_source=ads", HTTP_SEC_GPC="1")
        assert response.status_code == 200
        assert not set(response.cookies) & {visits.ATTRIB_COOKIE, visits.UTM_COOKIE}
        flush()
        row = CourseDay.objects.get(course=self.course)
        assert (row.views, row.visitors, row.utm_source, row.referrer_domain) == (1, 0, "", "")

    def test_it_honours_do_not_track(self) -> None:
        response = self.client.get(self.url, HTTP_DNT="1", HTTP_REFERER="https://news.example.org/")
        assert not set(response.cookies) & {visits.ATTRIB_COOKIE, visits.UTM_COOKIE}
        flush()
        row = CourseDay.objects.get(course=self.course)
        assert (row.views, row.visitors, row.referrer_domain) == (1, 0, "")

    def test_it_ignores_a_cookie_it_set_before_the_browser_opted_out(self) -> None:
        self.client.get(self.url + "?utm_source=ads")
        self.client.get(self.url, HTTP_SEC_GPC="1")
        flush()
        rows = {(r.utm_source, r.views, r.visitors) for r in CourseDay.objects.all()}
        assert rows == {("ads", 1, 1), ("", 1, 0)}

    def test_it_declares_both_cookies(self) -> None:
        names = {c.name: c for c in cookies.declared()}
        assert names[visits.ATTRIB_COOKIE].lifetime == "90 days"
        assert names[visits.UTM_COOKIE].lifetime == "30 days"
        page = self.client.get(reverse("cookies")).content.decode()
        assert visits.ATTRIB_COOKIE in page
        assert visits.UTM_COOKIE in page

    def test_it_keeps_the_first_touch_for_ninety_days(self) -> None:
        assert timedelta(days=visits.ATTRIB_DAYS).total_seconds() == NINETY_DAYS
