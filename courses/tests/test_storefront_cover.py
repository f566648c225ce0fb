"""Course covers /c/<slug>/cover: streamed to anyone who may see the course."""

from django.urls import reverse

from courses.models import Course
from courses.services import courses as course_services
from courses.tests.factories import CourseFactory
from files.tests.files_kit import TemporaryStorageMixin, image_bytes, png
from tests.base import LecternTestCase


class CoverTests(TemporaryStorageMixin, LecternTestCase):
    def make(self, slug: str, **traits: bool) -> Course:
        course = CourseFactory.create(teacher=self.alice, slug=slug, **traits)
        return course_services.update_course(course=course, fields={}, cover_upload=png())

    def test_it_streams_the_cover_of_a_public_course(self) -> None:
        self.make("open")
        response = self.client.get(reverse("courses:cover", args=["open"]))
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert response.getvalue() == image_bytes("PNG")
        assert "public" in response["Cache-Control"]

    def test_it_streams_the_cover_of_an_unlisted_course(self) -> None:
        self.make("quiet", unlisted=True)
        assert self.client.get(reverse("courses:cover", args=["quiet"])).status_code == 200

    def test_a_drafts_cover_is_for_its_teacher_only(self) -> None:
        self.make("draft", draft=True)
        url = reverse("courses:cover", args=["draft"])
        assert self.client.get(url).status_code == 404
        assert self.new_client(self.carol).get(url).status_code == 404
        response = self.new_client(self.alice).get(url)
        assert response.status_code == 200
        assert "private" in response["Cache-Control"]

    def test_it_is_a_404_without_a_cover(self) -> None:
        CourseFactory.create(slug="bare")
        assert self.client.get(reverse("courses:cover", args=["bare"])).status_code == 404
