"""The public course page /c/<slug>/: content, visibility, previews, caching and query counts."""

from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

from django.core.cache import caches
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from courses.enrolment_policy import Offer
from courses.models import Course, Enrollment, WaitlistEntry
from courses.tests.factories import CourseFactory, CourseItemFactory, EnrollmentFactory
from tests.base import LecternTestCase, StudentFactory, assert_constant_queries


class MetaTags(HTMLParser):
    """Collect <meta> tags by property or name."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta":
            values = dict(attrs)
            key = values.get("property") or values.get("name")
            if key:
                self.tags[key] = values.get("content") or ""


def meta_tags(html: str) -> dict[str, str]:
    parser = MetaTags()
    parser.feed(html)
    return parser.tags


class StorefrontTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(
            teacher=self.alice,
            slug="watercolour",
            title="Watercolour Foundations",
            summary="Washes, glazes and colour.",
            description="## Welcome\n\nBring a **brush**.\n\n<script>alert('x')</script>",
            timezone="Europe/London",
            capacity=10,
            schedule="Tuesdays 18:00 to 19:30",
        )
        self.url = reverse("storefront:course", args=["watercolour"])

    def test_it_shows_the_course(self) -> None:
        response = self.client.get(self.url)
        html = response.content.decode()
        assert response.status_code == 200
        assert "Watercolour Foundations" in html
        assert "<h2>Welcome</h2>" in html
        assert "<strong>brush</strong>" in html
        assert "Tuesdays 18:00 to 19:30" in html
        assert "Europe/London" in html or "Europe London" in html
        assert "Alice Archer" in html
        assert "Free" in html

    def test_it_neutralises_script_tags_in_the_description(self) -> None:
        html = self.client.get(self.url).content.decode()
        assert "<script>alert" not in html
        assert "alert(" not in html

    def test_it_shows_seats_left(self) -> None:
        EnrollmentFactory.create_batch(3, course=self.course)
        EnrollmentFactory.create(course=self.course, status=Enrollment.Status.LEFT)
        response = self.client.get(self.url)
        assert response.context["seats_left"] == 7
        assert "7</strong> seats left of 10" in response.content.decode()

    def test_it_says_full_when_no_seat_is_left(self) -> None:
        EnrollmentFactory.create_batch(10, course=self.course)
        response = self.client.get(self.url)
        assert response.context["seats_left"] == 0
        assert "Full" in response.content.decode()

    def test_it_shows_the_price_with_its_currency_and_no_enrol_button_when_paid(self) -> None:
        self.course.price_amount = 4900
        self.course.currency = "GBP"
        self.course.save()
        self.login(self.bob)
        html = self.client.get(self.url).content.decode()
        assert "£49.00" in html
        assert "open for enrolment yet" in html
        assert reverse("courses:enroll", args=["watercolour"]) not in html

    def test_it_offers_enrolment_for_a_free_course(self) -> None:
        self.login(self.bob)
        html = self.client.get(self.url).content.decode()
        assert reverse("courses:enroll", args=["watercolour"]) in html

    def test_it_passes_the_enrolment_and_waitlist_state_to_the_enrol_box(self) -> None:
        self.login(self.bob)
        assert self.client.get(self.url).context["answer"].offer == Offer.ENROL
        Course.objects.filter(pk=self.course.pk).update(capacity=1)
        EnrollmentFactory.create(course=self.course)
        assert self.client.get(self.url).context["answer"].offer == Offer.JOIN_WAITLIST
        WaitlistEntry.objects.create(course=self.course, student=self.bob)
        assert self.client.get(self.url).context["answer"].offer == Offer.ON_WAITLIST
        Enrollment.objects.create(course=self.course, student=self.bob)
        assert self.client.get(self.url).context["answer"].offer == Offer.GO_TO_COURSE

    def test_it_lists_upcoming_published_sessions_only(self) -> None:
        soon = timezone.now() + timedelta(days=2)
        CourseItemFactory.create(course=self.course, session=True, title="Week 1", starts_at=soon)
        CourseItemFactory.create(
            course=self.course, session=True, title="Secret", starts_at=soon, published=False
        )
        CourseItemFactory.create(
            course=self.course,
            session=True,
            title="Last month",
            starts_at=timezone.now() - timedelta(days=30),
        )
        html = self.client.get(self.url).content.decode()
        assert "Week 1" in html
        assert "Secret" not in html
        assert "Last month" not in html

    def test_it_shows_session_times_in_the_course_zone_and_the_visitors(self) -> None:
        CourseItemFactory.create(
            course=self.course,
            session=True,
            title="Week 1",
            starts_at=datetime(2030, 1, 15, 18, 0, tzinfo=UTC),
            duration_minutes=90,
        )
        self.bob.timezone = "America/New_York"
        self.bob.save()
        self.login(self.bob)
        html = self.client.get(self.url).content.decode()
        assert "18:00\u201319:30" in html
        assert "GMT" in html
        assert "Tue 15 Jan, 13:00 your time" in html
        assert "America/New York" in html

    def test_it_names_the_course_zone_for_anonymous_visitors(self) -> None:
        CourseItemFactory.create(
            course=self.course,
            session=True,
            starts_at=datetime(2030, 7, 15, 17, 0, tzinfo=UTC),
            duration_minutes=60,
        )
        html = self.client.get(self.url).content.decode()
        assert "18:00\u201319:00" in html
        assert "BST" in html
        assert "your time" not in html
        assert "Times in Europe/London" in html

    def test_it_has_open_graph_and_twitter_tags(self) -> None:
        tags = meta_tags(self.client.get(self.url).content.decode())
        assert tags["og:title"] == "Watercolour Foundations"
        assert tags["og:description"] == "Washes, glazes and colour."
        assert tags["og:url"] == "http://testserver/c/watercolour/"
        assert tags["og:type"] == "website"
        assert tags["twitter:title"] == "Watercolour Foundations"
        assert tags["description"] == "Washes, glazes and colour."
        assert "robots" not in tags

    def test_it_points_og_image_at_the_cover_with_an_absolute_url(self) -> None:
        from files.models import StoredFile

        self.course.cover = StoredFile.objects.create(
            course=self.course,
            uploaded_by=self.alice,
            blob="uploads/x",
            original_name="c.png",
            content_type="image/png",
            size=1,
        )
        self.course.save()
        tags = meta_tags(self.client.get(self.url).content.decode())
        assert tags["og:image"] == (
            f"http://testserver/c/watercolour/cover?v={self.course.cover_id}"
        )
        assert tags["twitter:card"] == "summary_large_image"

    def test_it_describes_the_course_from_its_text_without_a_summary(self) -> None:
        self.course.summary = ""
        self.course.save()
        tags = meta_tags(self.client.get(self.url).content.decode())
        assert tags["og:description"].startswith("Welcome Bring a brush.")

    def test_it_is_a_404_when_missing(self) -> None:
        assert self.client.get(reverse("storefront:course", args=["nope"])).status_code == 404


class VisibilityTests(LecternTestCase):
    def test_a_draft_is_a_404_for_everyone_but_its_teacher(self) -> None:
        CourseFactory.create(teacher=self.alice, slug="draft", draft=True)
        url = reverse("storefront:course", args=["draft"])
        assert self.client.get(url).status_code == 404
        for person in (self.bob, self.carol, self.staff):
            assert self.new_client(person).get(url).status_code == 404
        response = self.new_client(self.alice).get(url)
        assert response.status_code == 200
        assert "Draft — only you can see this" in response.content.decode()
        assert 'name="robots" content="noindex"' in response.content.decode()

    def test_an_unlisted_course_opens_by_link_with_noindex(self) -> None:
        CourseFactory.create(teacher=self.alice, slug="quiet", unlisted=True)
        response = self.client.get(reverse("storefront:course", args=["quiet"]))
        assert response.status_code == 200
        assert meta_tags(response.content.decode())["robots"] == "noindex"

    def test_an_archived_course_is_a_404_for_visitors(self) -> None:
        CourseFactory.create(teacher=self.alice, slug="old", archived=True)
        assert self.client.get(reverse("storefront:course", args=["old"])).status_code == 404


class CachingTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, slug="cached")
        self.url = reverse("storefront:course", args=["cached"])

    def test_it_lets_shared_caches_keep_the_page_a_minute_for_visitors(self) -> None:
        # A first visit sets the visitor's own analytics cookie: that response is theirs alone.
        first = self.client.get(self.url)
        assert "cls_attrib" in first.cookies
        assert "private" in first["Cache-Control"]
        # Coming back, and for a browser that asks not to be tracked, the page is shared.
        for response in (
            self.client.get(self.url),
            Client(headers={"Sec-GPC": "1"}).get(self.url),
        ):
            assert not response.cookies
            assert "public" in response["Cache-Control"]
            assert "max-age=60" in response["Cache-Control"]
            assert "Cookie" in response["Vary"]

    def test_it_keeps_the_page_private_for_people_signed_in(self) -> None:
        response = self.new_client(self.bob).get(self.url)
        assert "private" in response["Cache-Control"]
        assert "public" not in response["Cache-Control"]

    def test_it_keeps_a_draft_preview_private(self) -> None:
        CourseFactory.create(teacher=self.alice, slug="draft-c", draft=True)
        response = self.new_client(self.alice).get(reverse("storefront:course", args=["draft-c"]))
        assert "private" in response["Cache-Control"]

    def test_it_shows_a_new_session_at_once_after_it_is_added(self) -> None:
        self.client.get(self.url)
        teacher = self.new_client(self.alice)
        teacher.post(
            reverse("courses:teach_item_new", args=["cached", "session"]),
            {
                "title": "Brand new session",
                "day": (timezone.now() + timedelta(days=3)).date().isoformat(),
                "at": "18:00",
                "duration_minutes": "60",
                "published": "on",
            },
        )
        assert "Brand new session" in self.client.get(self.url).content.decode()

    def test_it_shows_seats_taken_at_once_though_the_page_body_is_cached(self) -> None:
        self.course.capacity = 5
        self.course.save()
        assert self.client.get(self.url).context["seats_left"] == 5
        EnrollmentFactory.create(course=self.course)
        assert self.client.get(self.url).context["seats_left"] == 4


class QueryCountTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, slug="busy", capacity=None)
        self.url = reverse("storefront:course", args=["busy"])

    def add_rows(self, n: int) -> None:
        """Add n students and about n/25 sessions and other items."""
        students = StudentFactory.create_batch(n, accepted_policies=False, verified=False)
        Enrollment.objects.bulk_create(
            [Enrollment(course=self.course, student=s) for s in students]
        )
        start = timezone.now() + timedelta(days=1)
        for i in range(max(1, n // 25)):
            CourseItemFactory.create(
                course=self.course, session=True, starts_at=start + timedelta(days=i)
            )
            CourseItemFactory.create(course=self.course)

    def test_it_makes_the_same_queries_for_few_and_many_students_anonymously(self) -> None:
        def fresh() -> object:
            for backend in caches.all():
                backend.clear()
            return self.client.get(self.url)

        # With nothing cached: the page's facts, the course, its sessions.
        assert_constant_queries(self, fresh, self.add_rows, counts=(10, 1000), budget=3)

    def test_it_serves_visitors_with_one_query_once_the_page_is_cached(self) -> None:
        self.add_rows(10)
        self.client.get(self.url)
        with self.assertNumQueries(1):
            self.client.get(self.url)

    def test_it_makes_the_same_queries_for_a_signed_in_student(self) -> None:
        client = self.new_client(self.bob)
        Enrollment.objects.create(course=self.course, student=self.bob)

        def run() -> object:
            response = client.get(self.url)
            assert response.status_code == 200
            return response

        assert_constant_queries(self, run, self.add_rows, counts=(10, 1000), budget=12)


class ManyVisitorsTests(LecternTestCase):
    def test_forty_items_and_two_hundred_students_render_for_a_visitor(self) -> None:
        course = CourseFactory.create(teacher=self.alice, slug="bench", capacity=500)
        CourseItemFactory.create_batch(30, course=course)
        CourseItemFactory.create_batch(10, course=course, session=True)
        students = StudentFactory.create_batch(200, accepted_policies=False, verified=False)
        Enrollment.objects.bulk_create([Enrollment(course=course, student=s) for s in students])
        response = Client().get(reverse("storefront:course", args=["bench"]))
        assert response.status_code == 200
        assert response.context["seats_left"] == 300
