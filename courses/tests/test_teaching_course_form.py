"""Creating and editing a course: the form's checks and what gets stored."""

from datetime import date

from django.urls import reverse

from courses.models import Course, Visibility
from courses.tests.factories import CourseFactory
from files.models import StoredFile
from files.tests.files_kit import ELF_BYTES, TemporaryStorageMixin, png, upload
from tests.base import LecternTestCase


def course_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "title": "Watercolour Foundations",
        "slug": "",
        "summary": "Six weeks of washes, glazes and colour.",
        "description": "## Welcome\n\nBring a brush.",
        "starts_on": "2026-12-01",
        "ends_on": "2027-01-15",
        "schedule": "Tuesdays 18:00 to 19:30",
        "timezone": "Europe/Paris",
        "visibility": Visibility.DRAFT,
        "capacity": "12",
        "price": "",
        "currency": "EUR",
        "organisation": "Alice's Studio",
    }
    data.update(overrides)
    return data


class CreateCourseTests(TemporaryStorageMixin, LecternTestCase):
    url = reverse("courses:teach_course_new")

    def setUp(self) -> None:
        super().setUp()
        self.login(self.alice)

    def test_it_shows_the_form_with_the_teachers_organisation(self) -> None:
        response = self.client.get(self.url)
        assert response.status_code == 200
        assert response.context["form"].initial["organisation"] == "Alice's Studio"

    def test_it_creates_a_draft_with_a_slug_from_the_title(self) -> None:
        response = self.client.post(self.url, course_data())
        course = Course.objects.get()
        self.assertRedirects(response, reverse("courses:teach_course", args=[course.slug]))
        assert course.slug == "watercolour-foundations"
        assert course.teacher == self.alice
        assert course.visibility == Visibility.DRAFT
        assert course.published_at is None
        assert course.starts_on == date(2026, 12, 1)
        assert course.capacity == 12
        assert course.timezone == "Europe/Paris"
        assert course.price_amount == 0

    def test_it_numbers_a_slug_already_taken_when_made_from_the_title(self) -> None:
        CourseFactory.create(slug="watercolour-foundations")
        self.client.post(self.url, course_data())
        assert Course.objects.filter(slug="watercolour-foundations-2").exists()

    def test_it_refuses_a_slug_chosen_by_another_course(self) -> None:
        CourseFactory.create(slug="taken")
        response = self.client.post(self.url, course_data(slug="taken"))
        assert response.status_code == 400
        assert "/c/taken/ is already taken" in response.content.decode()
        assert Course.objects.filter(teacher=self.alice).count() == 0

    def test_it_refuses_a_slug_with_spaces(self) -> None:
        response = self.client.post(self.url, course_data(slug="not a slug"))
        assert response.status_code == 400
        assert "slug" in response.context["form"].errors

    def test_it_refuses_an_end_before_the_start(self) -> None:
        response = self.client.post(
            self.url, course_data(starts_on="2026-12-10", ends_on="2026-12-01")
        )
        assert response.status_code == 400
        assert "end before it starts" in response.content.decode()
        assert not Course.objects.exists()

    def test_it_refuses_an_invalid_date(self) -> None:
        response = self.client.post(self.url, course_data(starts_on="2026-02-30"))
        assert response.status_code == 400
        assert "starts_on" in response.context["form"].errors

    def test_it_refuses_a_negative_or_zero_capacity(self) -> None:
        for capacity in ("-3", "0"):
            response = self.client.post(self.url, course_data(capacity=capacity))
            assert response.status_code == 400
            assert "at least 1 seat" in response.content.decode()
        assert not Course.objects.exists()

    def test_it_takes_an_empty_capacity_as_unlimited(self) -> None:
        self.client.post(self.url, course_data(capacity=""))
        assert Course.objects.get().capacity is None

    def test_it_stores_the_price_in_minor_units(self) -> None:
        self.client.post(self.url, course_data(price="49.90", currency="GBP"))
        course = Course.objects.get()
        assert course.price_amount == 4990
        assert course.currency == "GBP"
        assert not course.is_free

    def test_it_refuses_a_negative_price_or_fractions_of_a_cent(self) -> None:
        for price in ("-1", "10.001", "lots"):
            response = self.client.post(self.url, course_data(price=price))
            assert response.status_code == 400, price
            assert "price" in response.context["form"].errors
        assert not Course.objects.exists()

    def test_it_refuses_an_unknown_currency_or_time_zone(self) -> None:
        response = self.client.post(self.url, course_data(currency="XXX", timezone="Mars/Base"))
        assert response.status_code == 400
        assert {"currency", "timezone"} <= set(response.context["form"].errors)

    def test_it_refuses_markdown_over_50000_characters(self) -> None:
        response = self.client.post(self.url, course_data(description="a" * 50_001))
        assert response.status_code == 400
        assert "at most 50,000 characters; this one has 50,001" in response.content.decode()
        assert not Course.objects.exists()

    def test_it_refuses_5_mb_of_markdown_with_a_message(self) -> None:
        response = self.client.post(self.url, course_data(description="a" * 5 * 1024 * 1024))
        assert 400 <= response.status_code < 500
        assert "more text than Lectern accepts" in response.content.decode()
        assert not Course.objects.exists()

    def test_it_keeps_what_was_typed_when_the_form_comes_back(self) -> None:
        response = self.client.post(self.url, course_data(ends_on="2020-01-01"))
        assert "Six weeks of washes, glazes and colour." in response.content.decode()

    def test_it_stores_a_cover_image(self) -> None:
        response = self.client.post(self.url, {**course_data(), "cover_upload": png()})
        assert response.status_code == 302
        course = Course.objects.get()
        assert course.cover is not None
        assert course.cover.content_type == "image/png"
        assert course.cover.course == course

    def test_it_refuses_a_cover_that_is_not_an_image_and_stores_nothing(self) -> None:
        response = self.client.post(
            self.url, {**course_data(), "cover_upload": upload("cover.png", ELF_BYTES)}
        )
        assert response.status_code == 400
        assert "cover_upload" in response.context["form"].errors
        assert not Course.objects.exists()
        assert not StoredFile.objects.exists()

    def test_it_publishes_at_once_when_asked_and_gives_the_teacher_a_handle(self) -> None:
        self.client.post(self.url, course_data(visibility=Visibility.PUBLIC))
        course = Course.objects.get()
        assert course.visibility == Visibility.PUBLIC
        assert course.published_at is not None
        self.alice.refresh_from_db()
        assert self.alice.handle == "alices-studio"

    def test_it_refuses_to_publish_without_a_description(self) -> None:
        response = self.client.post(
            self.url, course_data(visibility=Visibility.PUBLIC, description="  ")
        )
        assert response.status_code == 400
        assert "Write a description before publishing" in response.content.decode()
        assert not Course.objects.exists()

    def test_it_is_not_for_students(self) -> None:
        self.login(self.bob)
        assert self.client.get(self.url).status_code == 404
        assert self.client.post(self.url, course_data()).status_code == 404
        assert not Course.objects.exists()


class EditCourseTests(TemporaryStorageMixin, LecternTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.course = CourseFactory.create(
            teacher=self.alice, slug="clay", title="Clay", draft=True
        )
        self.url = reverse("courses:teach_course_edit", args=["clay"])
        self.login(self.alice)

    def test_it_shows_the_price_in_major_units(self) -> None:
        self.course.price_amount = 1250
        self.course.save()
        response = self.client.get(self.url)
        assert 'value="12.50"' in response.content.decode()

    def test_it_saves_changes(self) -> None:
        response = self.client.post(
            self.url, course_data(title="Clay, slowly", slug="clay", capacity="", price="20")
        )
        self.assertRedirects(response, reverse("courses:teach_course", args=["clay"]))
        self.course.refresh_from_db()
        assert self.course.title == "Clay, slowly"
        assert self.course.capacity is None
        assert self.course.price_amount == 2000

    def test_it_keeps_its_own_slug_without_calling_it_taken(self) -> None:
        response = self.client.post(self.url, course_data(slug="clay"))
        assert response.status_code == 302

    def test_it_changes_the_slug(self) -> None:
        self.client.post(self.url, course_data(slug="clay-2027"))
        self.course.refresh_from_db()
        assert self.course.slug == "clay-2027"

    def test_it_replaces_and_removes_the_cover(self) -> None:
        self.client.post(self.url, {**course_data(slug="clay"), "cover_upload": png("a.png")})
        self.course.refresh_from_db()
        first = self.course.cover_id
        self.client.post(self.url, {**course_data(slug="clay"), "cover_upload": png("b.png")})
        self.course.refresh_from_db()
        assert self.course.cover_id != first
        assert not StoredFile.objects.filter(pk=first).exists()
        self.client.post(self.url, {**course_data(slug="clay"), "remove_cover": "on"})
        self.course.refresh_from_db()
        assert self.course.cover is None
        assert not StoredFile.objects.exists()

    def test_it_is_a_404_for_another_teacher(self) -> None:
        self.login(self.carol)
        assert self.client.get(self.url).status_code == 404
        assert self.client.post(self.url, course_data(title="Mine now")).status_code == 404
        self.course.refresh_from_db()
        assert self.course.title == "Clay"
