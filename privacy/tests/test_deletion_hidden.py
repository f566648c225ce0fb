"""While an account is switched off for deletion, other people no longer see it."""

from django.urls import reverse

from courses.models import Course, Enrollment
from courses.services import courses as course_services
from courses.tests.factories import CourseFactory
from messaging import selectors
from messaging import services as messaging
from privacy import deletion
from tests.base import LecternTestCase


class HiddenTests(LecternTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.course = CourseFactory.create(teacher=self.alice, slug="hidden-course")
        Enrollment.objects.create(course=self.course, student=self.bob)
        Enrollment.objects.create(course=self.course, student=self.dave)
        course_services.ensure_teacher_handle(teacher=self.alice)
        self.alice.refresh_from_db()

    def test_it_closes_the_teachers_pages(self) -> None:
        storefront = reverse("storefront:course", args=[self.course.slug])
        teacher_page = reverse("storefront:teacher_page", args=[self.alice.handle])
        assert self.client.get(storefront).status_code == 200
        deletion.request_deletion(user=self.alice)
        assert self.client.get(storefront).status_code == 404
        assert self.client.get(teacher_page).status_code == 404
        self.login(self.bob)
        assert self.client.get(storefront).status_code == 404

    def test_it_drops_the_teachers_courses_from_listings(self) -> None:
        assert self.course in course_services.featured_courses()
        deletion.request_deletion(user=self.alice)
        assert self.course not in course_services.featured_courses()
        assert not Course.objects.reachable().filter(pk=self.course.pk).exists()

    def test_it_brings_everything_back_on_cancel(self) -> None:
        request = deletion.request_deletion(user=self.alice)
        deletion.cancel(request)
        storefront = reverse("storefront:course", args=[self.course.slug])
        assert self.client.get(storefront).status_code == 200
        assert self.course in course_services.featured_courses()

    def test_it_hides_the_person_from_rosters_and_pickers(self) -> None:
        channel = messaging.get_or_create_channel(course=self.course)
        assert self.bob in selectors.channel_members(channel)
        assert self.bob in selectors.people_to_message(self.dave)
        deletion.request_deletion(user=self.bob)
        assert self.bob not in selectors.channel_members(channel)
        assert self.bob not in selectors.people_to_message(self.dave)
        assert self.bob not in selectors.people_to_message(self.alice)

    def test_it_shows_the_person_as_deleted_user(self) -> None:
        deletion.request_deletion(user=self.bob)
        self.bob.refresh_from_db()
        assert str(self.bob) == "Deleted user"
        assert self.bob.get_full_name() == "Deleted user"
        assert self.bob.get_short_name() == "Deleted user"
