"""Publishing, unpublishing, archiving a course, and the teacher's public page address."""

from typing import Any

from django.urls import reverse

from courses.models import Course, Visibility
from courses.services import courses as course_services
from courses.tests.factories import CourseFactory
from tests.base import LecternTestCase, TeacherFactory


class PublishTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, slug="clay", draft=True)
        self.manage = reverse("courses:teach_course", args=["clay"])
        self.login(self.alice)

    def post(self, name: str, data: dict[str, str] | None = None) -> Any:
        return self.client.post(reverse(f"courses:{name}", args=["clay"]), data or {})

    def test_it_publishes_a_draft_as_public(self) -> None:
        response = self.post("teach_course_publish", {"visibility": "public"})
        self.assertRedirects(response, self.manage)
        self.course.refresh_from_db()
        assert self.course.visibility == Visibility.PUBLIC
        assert self.course.published_at is not None
        assert self.client.get(reverse("storefront:course", args=["clay"])).status_code == 200

    def test_it_publishes_as_unlisted(self) -> None:
        self.post("teach_course_publish", {"visibility": "unlisted"})
        self.course.refresh_from_db()
        assert self.course.visibility == Visibility.UNLISTED

    def test_it_refuses_to_publish_as_draft_or_nonsense(self) -> None:
        for visibility in ("draft", "everyone", ""):
            self.post("teach_course_publish", {"visibility": visibility})
            self.course.refresh_from_db()
            assert self.course.visibility == Visibility.DRAFT

    def test_it_refuses_to_publish_without_a_description(self) -> None:
        Course.objects.filter(pk=self.course.pk).update(description="")
        response = self.post("teach_course_publish", {"visibility": "public"})
        self.assertRedirects(
            response,
            reverse("courses:teach_course_edit", args=["clay"]),
            fetch_redirect_response=False,
        )
        self.course.refresh_from_db()
        assert self.course.visibility == Visibility.DRAFT
        follow = self.client.get(response["Location"])
        assert "Add a description before publishing" in follow.content.decode()

    def test_it_gives_the_teacher_a_unique_handle_on_first_publication(self) -> None:
        TeacherFactory.create(organisation_name="Alice's Studio", handle="alices-studio")
        self.post("teach_course_publish", {"visibility": "public"})
        self.alice.refresh_from_db()
        assert self.alice.handle == "alices-studio-2"

    def test_it_keeps_a_handle_the_teacher_already_has(self) -> None:
        self.alice.handle = "alice"
        self.alice.save()
        self.post("teach_course_publish", {"visibility": "public"})
        self.alice.refresh_from_db()
        assert self.alice.handle == "alice"

    def test_it_unpublishes_back_to_draft_keeping_the_first_publication_time(self) -> None:
        self.post("teach_course_publish", {"visibility": "public"})
        self.course.refresh_from_db()
        first = self.course.published_at
        response = self.post("teach_course_unpublish")
        self.assertRedirects(response, self.manage)
        self.course.refresh_from_db()
        assert self.course.visibility == Visibility.DRAFT
        assert self.course.published_at == first
        self.login(self.bob)
        assert self.client.get(reverse("storefront:course", args=["clay"])).status_code == 404

    def test_it_archives_and_restores(self) -> None:
        self.post("teach_course_publish", {"visibility": "public"})
        response = self.post("teach_course_archive")
        self.assertRedirects(response, self.manage)
        self.course.refresh_from_db()
        assert self.course.is_archived
        assert self.client.get(reverse("storefront:course", args=["clay"])).status_code == 200
        self.login(self.bob)
        assert self.client.get(reverse("storefront:course", args=["clay"])).status_code == 404
        self.login(self.alice)
        self.post("teach_course_archive", {"restore": "1"})
        self.course.refresh_from_db()
        assert not self.course.is_archived
        assert self.course.visibility == Visibility.PUBLIC

    def test_it_refuses_get(self) -> None:
        for name in ("teach_course_publish", "teach_course_unpublish", "teach_course_archive"):
            response = self.client.get(reverse(f"courses:{name}", args=["clay"]))
            assert response.status_code == 405

    def test_it_is_a_404_for_another_teacher(self) -> None:
        self.login(self.carol)
        for name in ("teach_course_publish", "teach_course_unpublish", "teach_course_archive"):
            assert self.post(name, {"visibility": "public"}).status_code == 404
        self.course.refresh_from_db()
        assert self.course.visibility == Visibility.DRAFT
        assert not self.course.is_archived


class HandleTests(LecternTestCase):
    url = reverse("courses:teach_handle")

    def test_it_suggests_an_address_from_the_organisation(self) -> None:
        self.login(self.alice)
        response = self.client.get(self.url)
        assert response.context["form"].initial["handle"] == "alices-studio"

    def test_it_sets_the_address(self) -> None:
        self.login(self.alice)
        response = self.client.post(self.url, {"handle": "Alice-Paints"})
        self.assertRedirects(response, self.url)
        self.alice.refresh_from_db()
        assert self.alice.handle == "alice-paints"

    def test_it_refuses_an_address_taken_by_someone_else(self) -> None:
        self.carol.handle = "carol"
        self.carol.save()
        self.login(self.alice)
        response = self.client.post(self.url, {"handle": "carol"})
        assert response.status_code == 400
        assert "/t/carol/ is already taken" in response.content.decode()
        self.alice.refresh_from_db()
        assert self.alice.handle is None

    def test_it_refuses_addresses_that_are_not_slugs(self) -> None:
        self.login(self.alice)
        for handle in ("two words", "", "x" * 41):
            assert self.client.post(self.url, {"handle": handle}).status_code == 400

    def test_it_makes_a_handle_from_the_name_without_an_organisation(self) -> None:
        teacher = TeacherFactory.create(first_name="Zoë", last_name="Ng", organisation_name="")
        assert course_services.ensure_teacher_handle(teacher=teacher) == "zoe-ng"

    def test_it_is_only_for_teachers(self) -> None:
        self.login(self.bob)
        assert self.client.get(self.url).status_code == 404
