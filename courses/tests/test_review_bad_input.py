"""Bad input found in review: each case answers 4xx with a message, never a 500."""

from django.http.response import HttpResponseBase
from django.test import Client
from django.urls import reverse

from courses.models import CourseItem, Enrollment, Submission
from courses.tests.factories import CourseFactory, CourseItemFactory, EnrollmentFactory
from tests.base import LecternTestCase

# Beyond any integer column of SQLite or PostgreSQL.
HUGE = 10**25


class RemoveStudentIdTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, slug="choir")
        EnrollmentFactory.create(course=self.course, student=self.bob)
        self.url = reverse("courses:remove_student", args=["choir", HUGE])
        self.client.raise_request_exception = False
        self.login(self.alice)

    def test_it_is_a_404_for_a_student_id_beyond_any_integer(self) -> None:
        assert self.client.get(self.url).status_code == 404
        assert self.client.post(self.url).status_code == 404
        assert Enrollment.objects.get().status == Enrollment.Status.ACTIVE


class GradeWithoutPointsTests(LecternTestCase):
    def setUp(self) -> None:
        course = CourseFactory.create(teacher=self.alice)
        EnrollmentFactory.create(course=course, student=self.bob)
        item = CourseItemFactory.create(course=course, assignment=True, points=None)
        self.submission = Submission.objects.create(item=item, student=self.bob, text="Essay")
        self.url = reverse("courses:grade", args=[self.submission.pk])
        self.client.raise_request_exception = False
        self.login(self.alice)

    def test_it_refuses_points_beyond_any_integer(self) -> None:
        response = self.client.post(self.url, {"points": str(HUGE), "feedback": "Good"})
        assert response.status_code == 400
        self.submission.refresh_from_db()
        assert self.submission.points_awarded is None
        assert self.submission.graded_at is None

    def test_it_still_takes_feedback_alone(self) -> None:
        response = self.client.post(self.url, {"points": "", "feedback": "Good"})
        assert response.status_code == 302
        self.submission.refresh_from_db()
        assert self.submission.feedback == "Good"


class FarDatesTests(LecternTestCase):
    """Dates a date picker allows but no time-zone conversion can hold."""

    def setUp(self) -> None:
        self.client.raise_request_exception = False
        self.login(self.alice)

    def add(self, slug: str, kind: str, **data: str) -> HttpResponseBase:
        url = reverse("courses:teach_item_new", args=[slug, kind])
        return self.client.post(url, {"title": f"A {kind}", "published": "on", **data})

    def test_it_refuses_a_due_date_past_the_last_year_behind_utc(self) -> None:
        CourseFactory.create(teacher=self.alice, slug="ny", timezone="America/New_York")
        response = self.add("ny", "assignment", day="9999-12-31", at="23:59", late_policy="accept")
        self.assertContains(response, "between 1970 and 2200", status_code=400)
        assert not CourseItem.objects.exists()

    def test_it_refuses_a_date_before_the_first_year_ahead_of_utc(self) -> None:
        CourseFactory.create(teacher=self.alice, slug="tokyo", timezone="Asia/Tokyo")
        response = self.add(
            "tokyo", "assignment", day="0001-01-01", at="00:00", late_policy="accept"
        )
        self.assertContains(response, "between 1970 and 2200", status_code=400)
        assert not CourseItem.objects.exists()

    def test_it_refuses_a_session_that_would_end_past_the_last_year(self) -> None:
        CourseFactory.create(teacher=self.alice, slug="utc", timezone="UTC")
        response = self.add("utc", "session", day="9999-12-31", at="23:00", duration_minutes="1440")
        self.assertContains(response, "between 1970 and 2200", status_code=400)
        assert not CourseItem.objects.exists()
        # The public page, the course page and the calendar stay up.
        anonymous = Client(raise_request_exception=False)
        assert anonymous.get(reverse("storefront:course", args=["utc"])).status_code == 200
        assert self.client.get(reverse("courses:course", args=["utc"])).status_code == 200
        assert self.client.get(reverse("courses:calendar")).status_code == 200

    def test_it_still_takes_dates_in_the_usual_range(self) -> None:
        CourseFactory.create(teacher=self.alice, slug="ny", timezone="America/New_York")
        response = self.add("ny", "assignment", day="2200-12-31", at="23:59", late_policy="accept")
        assert response.status_code == 302
        assert CourseItem.objects.get().due_at is not None


class FeedTokenTests(LecternTestCase):
    def test_it_is_a_404_for_a_token_with_a_nul_byte(self) -> None:
        # PostgreSQL refuses NUL in text parameters; the feed must not ask it.
        client = Client(raise_request_exception=False)
        assert client.get("/calendar/feed/abc%00def.ics").status_code == 404
