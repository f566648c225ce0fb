"""Adding, editing, publishing and deleting course items of every kind."""

from datetime import UTC, datetime
from typing import Any

from django.urls import reverse

from courses.models import Course, CourseItem, ItemKind, LatePolicy
from courses.tests.factories import CourseFactory, CourseItemFactory
from files.models import StoredFile
from files.tests.files_kit import ELF_BYTES, TemporaryStorageMixin, pdf, upload
from tests.base import LecternTestCase


class ItemTestCase(TemporaryStorageMixin, LecternTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.course = CourseFactory.create(
            teacher=self.alice, slug="clay", timezone="America/New_York", draft=True
        )
        self.login(self.alice)

    def new_url(self, kind: str) -> str:
        return reverse("courses:teach_item_new", args=["clay", kind])

    def add(self, kind: str, **data: object) -> Any:
        return self.client.post(self.new_url(kind), {"title": f"A {kind}", **data})


class AddItemTests(ItemTestCase):
    def test_it_shows_a_form_for_every_kind(self) -> None:
        for kind in ItemKind.values:
            assert self.client.get(self.new_url(kind)).status_code == 200, kind

    def test_it_is_a_404_for_an_unknown_kind(self) -> None:
        assert self.client.get(self.new_url("podcast")).status_code == 404

    def test_it_adds_an_announcement_at_the_end_published(self) -> None:
        CourseItemFactory.create(course=self.course, position=4)
        response = self.add("announcement", body="Welcome!", published="on")
        item = CourseItem.objects.get(kind=ItemKind.ANNOUNCEMENT)
        assert response.status_code == 302
        assert response["Location"].endswith(f"/teach/courses/clay/#item-{item.pk}")
        assert item.position == 5
        assert item.published
        assert item.published_at is not None
        assert item.author == self.alice

    def test_it_adds_a_draft_when_not_published(self) -> None:
        self.add("material", body="Read this.")
        item = CourseItem.objects.get()
        assert not item.published
        assert item.published_at is None

    def test_it_requires_text_for_a_material(self) -> None:
        response = self.add("material", body="")
        assert response.status_code == 400
        assert not CourseItem.objects.exists()

    def test_it_converts_a_due_time_in_the_course_time_zone_to_utc(self) -> None:
        self.add(
            "assignment",
            body="Paint a wheel.",
            day="2026-12-01",
            at="23:59",
            points="20",
            late_policy=LatePolicy.REFUSE,
        )
        item = CourseItem.objects.get()
        # 23:59 in New York in December (UTC-5) is 04:59 UTC the next day.
        assert item.due_at == datetime(2026, 12, 2, 4, 59, tzinfo=UTC)
        assert item.points == 20
        assert item.late_policy == LatePolicy.REFUSE

    def test_it_shows_a_stored_due_time_back_in_the_course_time_zone(self) -> None:
        item = CourseItemFactory.create(
            course=self.course, assignment=True, due_at=datetime(2026, 12, 2, 4, 59, tzinfo=UTC)
        )
        response = self.client.get(reverse("courses:teach_item_edit", args=["clay", item.pk]))
        html = response.content.decode()
        assert 'value="2026-12-01"' in html
        assert 'value="23:59"' in html

    def test_it_refuses_a_due_date_without_a_time(self) -> None:
        response = self.add("assignment", body="x", day="2026-12-01", late_policy="accept")
        assert response.status_code == 400
        assert "both a date and a time" in response.content.decode()

    def test_it_refuses_a_time_the_clocks_skip(self) -> None:
        response = self.add(
            "session", day="2027-03-14", at="02:30", duration_minutes="60", meeting_url=""
        )
        assert response.status_code == 400
        assert "the clocks go forward" in response.content.decode()
        assert not CourseItem.objects.exists()

    def test_it_adds_a_session_with_a_meeting_link(self) -> None:
        self.add(
            "session",
            day="2026-12-01",
            at="18:00",
            duration_minutes="90",
            meeting_url="https://us02web.zoom.us/j/123456789",
            published="on",
        )
        item = CourseItem.objects.get()
        assert item.starts_at == datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
        assert item.duration_minutes == 90
        assert item.meeting_url == "https://us02web.zoom.us/j/123456789"

    def test_it_refuses_a_session_without_a_start(self) -> None:
        response = self.add("session", duration_minutes="60")
        assert response.status_code == 400
        assert not CourseItem.objects.exists()

    def test_it_refuses_meeting_links_to_other_hosts_or_over_http(self) -> None:
        for url in (
            "https://example.com/meeting",
            "http://meet.google.com/abc-defg-hij",
            "https://zoom.us.evil.example/j/1",
            "https://notzoom.us/j/1",
            "javascript:alert(1)",
        ):
            response = self.add(
                "session", day="2026-12-01", at="18:00", duration_minutes="60", meeting_url=url
            )
            assert response.status_code == 400, url
            assert "meeting_url" in response.context["form"].errors, url
        assert not CourseItem.objects.exists()

    def test_it_adds_a_private_note_and_a_shared_one(self) -> None:
        self.add("note", body="Remember the paper.", is_private="True")
        self.add("note", body="Bring an apron.", is_private="False")
        private, shared = CourseItem.objects.order_by("position")
        assert private.is_private
        assert not shared.is_private

    def test_it_adds_a_link_and_refuses_other_schemes(self) -> None:
        response = self.add("link", url="ftp://example.com/file")
        assert response.status_code == 400
        self.add("link", url="https://example.com/reading")
        assert CourseItem.objects.get().url == "https://example.com/reading"

    def test_it_adds_a_file(self) -> None:
        self.add("file", upload=pdf("week-1.pdf"), published="on")
        item = CourseItem.objects.select_related("file").get()
        assert item.file is not None
        assert item.file.original_name == "week-1.pdf"
        assert item.file.course == self.course

    def test_it_refuses_an_executable_renamed_pdf_and_stores_nothing(self) -> None:
        response = self.add("file", upload=upload("notes.pdf", ELF_BYTES))
        assert response.status_code == 400
        assert "program or a script" in response.content.decode()
        assert not CourseItem.objects.exists()
        assert not StoredFile.objects.exists()

    def test_it_refuses_5_mb_of_text(self) -> None:
        response = self.add("material", body="a" * 5 * 1024 * 1024)
        assert 400 <= response.status_code < 500
        assert not CourseItem.objects.exists()

    def test_it_moves_the_course_updated_time_so_the_storefront_refreshes(self) -> None:
        before = Course.objects.get(pk=self.course.pk).updated_at
        self.add("announcement", body="Hello")
        assert Course.objects.get(pk=self.course.pk).updated_at > before


class EditItemTests(ItemTestCase):
    def test_it_saves_changes(self) -> None:
        item = CourseItemFactory.create(course=self.course, material=True, published=False)
        url = reverse("courses:teach_item_edit", args=["clay", item.pk])
        response = self.client.post(url, {"title": "Glazes", "body": "New text", "published": "on"})
        assert response.status_code == 302
        item.refresh_from_db()
        assert item.title == "Glazes"
        assert item.published
        assert item.published_at is not None

    def test_it_replaces_a_file_and_deletes_the_old_one(self) -> None:
        self.add("file", upload=pdf("a.pdf"))
        item = CourseItem.objects.get()
        old = item.file_id
        assert old is not None
        url = reverse("courses:teach_item_edit", args=["clay", item.pk])
        self.client.post(url, {"title": "Slides", "upload": pdf("b.pdf")})
        item.refresh_from_db()
        assert item.file_id != old
        assert not StoredFile.objects.filter(pk=old).exists()

    def test_it_keeps_the_file_when_none_is_uploaded(self) -> None:
        self.add("file", upload=pdf("a.pdf"))
        item = CourseItem.objects.get()
        url = reverse("courses:teach_item_edit", args=["clay", item.pk])
        assert self.client.post(url, {"title": "Renamed"}).status_code == 302
        item.refresh_from_db()
        assert item.file is not None

    def test_it_publishes_and_unpublishes(self) -> None:
        item = CourseItemFactory.create(course=self.course, published=False, published_at=None)
        url = reverse("courses:teach_item_publish", args=["clay", item.pk])
        self.client.post(url, {"published": "1"})
        item.refresh_from_db()
        assert item.published
        first = item.published_at
        self.client.post(url, {"published": "0"})
        item.refresh_from_db()
        assert not item.published
        assert item.published_at == first

    def test_it_asks_before_deleting_then_deletes_with_the_file(self) -> None:
        self.add("file", upload=pdf("a.pdf"))
        item = CourseItem.objects.get()
        url = reverse("courses:teach_item_delete", args=["clay", item.pk])
        confirm = self.client.get(url)
        assert confirm.status_code == 200
        assert "Delete “A file”?" in confirm.content.decode()
        assert CourseItem.objects.exists()
        response = self.client.post(url)
        self.assertRedirects(response, reverse("courses:teach_course", args=["clay"]))
        assert not CourseItem.objects.exists()
        assert not StoredFile.objects.exists()


class OtherTeacherTests(ItemTestCase):
    def test_every_item_page_is_a_404_for_another_teacher(self) -> None:
        item = CourseItemFactory.create(course=self.course)
        self.login(self.carol)
        gets = [
            reverse("courses:teach_course", args=["clay"]),
            reverse("courses:teach_course_edit", args=["clay"]),
            self.new_url("material"),
            reverse("courses:teach_item_edit", args=["clay", item.pk]),
            reverse("courses:teach_item_delete", args=["clay", item.pk]),
        ]
        for url in gets:
            assert self.client.get(url).status_code == 404, url
        posts = [
            (self.new_url("material"), {"title": "x", "body": "y"}),
            (reverse("courses:teach_item_edit", args=["clay", item.pk]), {"title": "x"}),
            (reverse("courses:teach_item_publish", args=["clay", item.pk]), {"published": "0"}),
            (reverse("courses:teach_item_move", args=["clay", item.pk]), {"direction": "up"}),
            (reverse("courses:teach_item_delete", args=["clay", item.pk]), {}),
            (reverse("courses:teach_items_reorder", args=["clay"]), {"order": str(item.pk)}),
        ]
        for url, data in posts:
            assert self.client.post(url, data).status_code == 404, url
        item.refresh_from_db()
        assert item.published
        assert CourseItem.objects.count() == 1

    def test_an_item_of_another_course_is_a_404_under_this_course(self) -> None:
        mine = CourseFactory.create(teacher=self.alice, slug="other")
        item = CourseItemFactory.create(course=mine)
        url = reverse("courses:teach_item_edit", args=["clay", item.pk])
        assert self.client.get(url).status_code == 404
