"""A teacher's public page /t/<handle>/: public courses and a calendar of upcoming sessions."""

from datetime import UTC, datetime, timedelta

from django.urls import reverse
from django.utils import timezone

from courses.models import Enrollment
from courses.tests.factories import CourseFactory, CourseItemFactory
from tests.base import LecternTestCase, StudentFactory, assert_constant_queries


class TeacherPageTests(LecternTestCase):
    def setUp(self) -> None:
        self.alice.handle = "alice"
        self.alice.timezone = "Europe/Paris"
        self.alice.save()
        self.url = reverse("storefront:teacher_page", args=["alice"])

    def test_it_lists_public_courses_only(self) -> None:
        CourseFactory.create(teacher=self.alice, title="Open course")
        CourseFactory.create(teacher=self.alice, title="Link only", unlisted=True)
        CourseFactory.create(teacher=self.alice, title="Not ready", draft=True)
        CourseFactory.create(teacher=self.alice, title="Finished", archived=True)
        CourseFactory.create(teacher=self.carol, title="Carol's course")
        response = self.client.get(self.url)
        html = response.content.decode()
        assert response.status_code == 200
        assert "Open course" in html
        for hidden in ("Link only", "Not ready", "Finished", "Carol&#x27;s course"):
            assert hidden not in html

    def test_it_groups_upcoming_sessions_by_day_linking_to_the_course(self) -> None:
        course = CourseFactory.create(teacher=self.alice, slug="clay", timezone="Europe/London")
        day = datetime(2030, 1, 15, 9, 0, tzinfo=UTC)
        CourseItemFactory.create(course=course, session=True, title="Morning", starts_at=day)
        CourseItemFactory.create(
            course=course, session=True, title="Evening", starts_at=day + timedelta(hours=9)
        )
        CourseItemFactory.create(
            course=course, session=True, title="Next day", starts_at=day + timedelta(days=1)
        )
        CourseItemFactory.create(
            course=course, session=True, title="Unpublished", starts_at=day, published=False
        )
        response = self.client.get(self.url)
        agenda = response.context["agenda"]
        assert [[s.item.title for s in d.sessions] for d in agenda] == [
            ["Morning", "Evening"],
            ["Next day"],
        ]
        html = response.content.decode()
        assert reverse("storefront:course", args=["clay"]) in html
        # Visitors see times in the teacher's zone (Paris), with the course's named when it differs.
        assert "10:00" in html
        assert "09:00 Europe/London" in html

    def test_it_shows_signed_in_visitors_their_own_time_zone(self) -> None:
        course = CourseFactory.create(teacher=self.alice, timezone="Europe/London")
        CourseItemFactory.create(
            course=course, session=True, starts_at=datetime(2030, 1, 15, 9, 0, tzinfo=UTC)
        )
        self.bob.timezone = "Asia/Tokyo"
        self.bob.save()
        response = self.new_client(self.bob).get(self.url)
        assert response.context["viewer_zone"] == "Asia/Tokyo"
        assert "18:00" in response.content.decode()

    def test_it_leaves_out_sessions_of_courses_not_listed(self) -> None:
        hidden = CourseFactory.create(teacher=self.alice, unlisted=True)
        CourseItemFactory.create(course=hidden, session=True, title="Unlisted session")
        html = self.client.get(self.url).content.decode()
        assert "Unlisted session" not in html
        assert "No sessions scheduled" in html

    def test_it_is_a_404_for_an_unknown_handle_or_a_non_teacher(self) -> None:
        nobody = reverse("storefront:teacher_page", args=["nobody"])
        assert self.client.get(nobody).status_code == 404
        self.bob.handle = "bob"
        self.bob.save()
        assert self.client.get(reverse("storefront:teacher_page", args=["bob"])).status_code == 404

    def test_it_is_cacheable_for_visitors(self) -> None:
        self.client.get(self.url)  # the first visit sets the visitor's analytics cookie
        response = self.client.get(self.url)
        assert "public" in response["Cache-Control"]
        assert "max-age=60" in response["Cache-Control"]

    def test_it_makes_the_same_queries_for_few_and_many_courses_and_sessions(self) -> None:
        def add(n: int) -> None:
            for _ in range(max(1, n // 10)):
                course = CourseFactory.create(teacher=self.alice, capacity=50)
                students = StudentFactory.create_batch(5, accepted_policies=False, verified=False)
                Enrollment.objects.bulk_create(
                    [Enrollment(course=course, student=s) for s in students]
                )
                start = timezone.now() + timedelta(days=1)
                for i in range(10):
                    CourseItemFactory.create(
                        course=course, session=True, starts_at=start + timedelta(hours=i * 7)
                    )

        assert_constant_queries(self, self.url, add, counts=(10, 1000), budget=5)
