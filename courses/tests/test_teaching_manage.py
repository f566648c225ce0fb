"""The course management page /teach/courses/<slug>/: items in order and every action."""

from django.urls import reverse

from courses.models import Submission
from courses.tests.factories import CourseFactory, CourseItemFactory, EnrollmentFactory
from tests.base import LecternTestCase, StudentFactory, assert_constant_queries


class ManageTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, slug="clay", draft=True)
        self.url = reverse("courses:teach_course", args=["clay"])
        self.login(self.alice)

    def test_it_teaches_what_to_add_first_when_empty(self) -> None:
        html = self.client.get(self.url).content.decode()
        assert "Nothing here yet" in html
        assert reverse("courses:teach_item_new", args=["clay", "session"]) in html

    def test_it_lists_items_in_order_with_their_actions(self) -> None:
        second = CourseItemFactory.create(course=self.course, title="Second", position=2)
        first = CourseItemFactory.create(
            course=self.course, title="First", position=1, published=False
        )
        response = self.client.get(self.url)
        assert [i.title for i in response.context["items"]] == ["First", "Second"]
        html = response.content.decode()
        assert html.index("First") < html.index("Second")
        for item in (first, second):
            assert reverse("courses:teach_item_move", args=["clay", item.pk]) in html
            assert reverse("courses:teach_item_delete", args=["clay", item.pk]) in html
        assert reverse("courses:teach_items_reorder", args=["clay"]) in html
        assert "Publish course" in html

    def test_it_offers_to_go_back_to_draft_when_published(self) -> None:
        self.course.visibility = "public"
        self.course.save()
        assert "Back to draft" in self.client.get(self.url).content.decode()

    def test_it_counts_work_waiting_to_be_graded(self) -> None:
        assignment = CourseItemFactory.create(course=self.course, assignment=True)
        for student in StudentFactory.create_batch(3):
            Submission.objects.create(item=assignment, student=student)
        assert self.client.get(self.url).context["ungraded"] == 3

    def test_it_makes_the_same_queries_for_10_and_1000_items(self) -> None:
        def add(n: int) -> None:
            CourseItemFactory.create_batch(n // 2, course=self.course)
            CourseItemFactory.create_batch(n - n // 2, course=self.course, assignment=True)
            EnrollmentFactory.create_batch(2, course=self.course)

        assert_constant_queries(self, self.url, add, counts=(10, 1000), budget=15)
