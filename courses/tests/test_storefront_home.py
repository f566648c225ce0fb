"""The landing page features public courses, linking to their storefront pages."""

from django.urls import reverse

from courses.tests.factories import CourseFactory
from tests.base import LecternTestCase


class HomeTests(LecternTestCase):
    def test_it_features_public_courses_only(self) -> None:
        CourseFactory.create(slug="open", title="Open course", price_amount=2500, currency="USD")
        CourseFactory.create(slug="quiet", title="Link only", unlisted=True)
        CourseFactory.create(slug="draft", title="Not ready", draft=True)
        CourseFactory.create(slug="old", title="Finished", archived=True)
        response = self.client.get(reverse("home"))
        html = response.content.decode()
        assert [c.title for c in response.context["featured"]] == ["Open course"]
        assert reverse("storefront:course", args=["open"]) in html
        assert "$25.00" in html
        for hidden in ("Link only", "Not ready", "Finished"):
            assert hidden not in html

    def test_it_keeps_the_page_without_a_courses_section_when_there_are_none(self) -> None:
        html = self.client.get(reverse("home")).content.decode()
        assert "Courses starting soon" not in html
        assert "Teach live. Get paid." in html

    def test_it_features_courses_in_a_fixed_number_of_queries(self) -> None:
        CourseFactory.create_batch(10)
        with self.assertNumQueries(1):
            self.client.get(reverse("home"))
