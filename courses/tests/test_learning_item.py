"""One course item on its own page, for enrolled students and the teacher's preview."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from courses.models import CourseItem, ItemKind, Submission
from courses.tests.factories import CourseFactory, CourseItemFactory, EnrollmentFactory
from files.models import StoredFile
from tests.base import LecternTestCase


class ItemPageTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, slug="bread")
        EnrollmentFactory.create(course=self.course, student=self.bob)
        self.login(self.bob)

    def url(self, item) -> str:
        return reverse("courses:item", args=["bread", item.pk])

    def test_it_renders_a_material_body_as_markdown(self) -> None:
        item = CourseItemFactory.create(
            course=self.course, title="Starter", body="# Feed it\n\nDaily."
        )
        response = self.client.get(self.url(item))
        self.assertContains(response, "<h1>Feed it</h1>", html=True)

    def test_it_shows_an_assignment_with_due_points_and_my_status(self) -> None:
        item = CourseItemFactory.create(
            course=self.course, assignment=True, title="Bake a loaf", points=20
        )
        response = self.client.get(self.url(item))
        self.assertContains(response, "Not handed in yet")
        self.assertContains(response, "20")
        Submission.objects.create(item=item, student=self.bob, text="Crusty")
        self.assertContains(self.client.get(self.url(item)), "Submitted")

    def test_it_flags_a_past_due_assignment(self) -> None:
        item = CourseItemFactory.create(
            course=self.course, assignment=True, due_at=timezone.now() - timedelta(hours=1)
        )
        self.assertContains(self.client.get(self.url(item)), "Past due")

    def test_it_shows_a_session_with_its_meeting_link(self) -> None:
        item = CourseItemFactory.create(course=self.course, session=True)
        response = self.client.get(self.url(item))
        self.assertContains(response, "Join the meeting")
        self.assertContains(response, "https://meet.google.com/abc-defg-hij")
        self.assertContains(response, "90 minutes")

    def test_it_shows_a_file_with_its_name(self) -> None:
        stored = StoredFile.objects.create(
            course=self.course,
            uploaded_by=self.alice,
            blob="uploads/x",
            original_name="recipe.pdf",
            content_type="application/pdf",
            size=2048,
        )
        # `file` is also the factory's trait for the kind, so the file is attached afterwards.
        item = CourseItemFactory.create(course=self.course, kind=ItemKind.FILE, title="Recipe")
        CourseItem.objects.filter(pk=item.pk).update(file=stored)
        response = self.client.get(self.url(item))
        self.assertContains(response, "recipe.pdf")

    def test_it_opens_a_link(self) -> None:
        item = CourseItemFactory.create(course=self.course, link=True)
        self.assertContains(self.client.get(self.url(item)), 'href="https://example.com/reading"')

    def test_it_is_404_for_unpublished_items_and_private_notes(self) -> None:
        draft = CourseItemFactory.create(course=self.course, published=False)
        note = CourseItemFactory.create(course=self.course, note=True)
        assert self.client.get(self.url(draft)).status_code == 404
        assert self.client.get(self.url(note)).status_code == 404

    def test_it_lets_the_teacher_preview_unpublished_items(self) -> None:
        draft = CourseItemFactory.create(course=self.course, published=False, title="Coming up")
        self.login(self.alice)
        self.assertContains(self.client.get(self.url(draft)), "Coming up")

    def test_it_is_404_for_an_item_of_another_course(self) -> None:
        elsewhere = CourseItemFactory.create(course=CourseFactory.create(teacher=self.carol))
        assert self.client.get(self.url(elsewhere)).status_code == 404

    def test_it_is_404_for_someone_not_enrolled(self) -> None:
        item = CourseItemFactory.create(course=self.course)
        self.login(self.dave)
        assert self.client.get(self.url(item)).status_code == 404
