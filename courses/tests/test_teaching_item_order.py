"""Ordering a course's items: up/down buttons without JavaScript, and drag-and-drop."""

from typing import Any

from django.urls import reverse

from courses.models import CourseItem
from courses.tests.factories import CourseFactory, CourseItemFactory
from tests.base import LecternTestCase, assert_constant_queries


class OrderTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, slug="clay")
        self.a, self.b, self.c = (
            CourseItemFactory.create(course=self.course, title=t, position=i)
            for i, t in enumerate("ABC")
        )
        self.login(self.alice)

    def order(self) -> list[str]:
        return list(
            CourseItem.objects.filter(course=self.course)
            .order_by("position", "pk")
            .values_list("title", flat=True)
        )

    def move(self, item: CourseItem, direction: str) -> Any:
        url = reverse("courses:teach_item_move", args=["clay", item.pk])
        return self.client.post(url, {"direction": direction})

    def reorder(self, order: str, **headers: Any) -> Any:
        url = reverse("courses:teach_items_reorder", args=["clay"])
        return self.client.post(url, {"order": order}, **headers)

    def test_it_moves_an_item_up_and_down(self) -> None:
        response = self.move(self.c, "up")
        assert response.status_code == 302
        assert response["Location"].endswith(f"#item-{self.c.pk}")
        assert self.order() == ["A", "C", "B"]
        self.move(self.a, "down")
        assert self.order() == ["C", "A", "B"]

    def test_it_leaves_the_first_item_where_it_is_when_moved_up(self) -> None:
        self.move(self.a, "up")
        self.move(self.c, "down")
        assert self.order() == ["A", "B", "C"]

    def test_it_refuses_an_unknown_direction(self) -> None:
        assert self.move(self.a, "sideways").status_code == 400
        assert self.order() == ["A", "B", "C"]

    def test_it_untangles_equal_positions_when_moving(self) -> None:
        CourseItem.objects.filter(course=self.course).update(position=0)
        self.move(self.c, "up")
        assert self.order() == ["A", "C", "B"]
        positions = list(
            CourseItem.objects.filter(course=self.course).values_list("position", flat=True)
        )
        assert sorted(positions) == [0, 1, 2]

    def test_it_saves_a_dragged_order(self) -> None:
        response = self.reorder(
            f"{self.c.pk},{self.a.pk},{self.b.pk}", HTTP_ACCEPT="application/json"
        )
        assert response.status_code == 200
        assert response.json() == {"ok": True}
        assert self.order() == ["C", "A", "B"]

    def test_it_takes_the_order_as_repeated_fields_without_javascript(self) -> None:
        url = reverse("courses:teach_items_reorder", args=["clay"])
        response = self.client.post(url, {"order": [self.b.pk, self.c.pk, self.a.pk]})
        self.assertRedirects(response, reverse("courses:teach_course", args=["clay"]))
        assert self.order() == ["B", "C", "A"]

    def test_it_refuses_an_order_with_another_courses_item(self) -> None:
        foreign = CourseItemFactory.create(course=CourseFactory.create(teacher=self.carol))
        response = self.reorder(
            f"{self.c.pk},{self.a.pk},{foreign.pk}", HTTP_ACCEPT="application/json"
        )
        assert response.status_code == 400
        assert "doesn't match this course's items" in response.json()["error"]
        assert self.order() == ["A", "B", "C"]
        assert CourseItem.objects.get(pk=foreign.pk).course_id != self.course.pk

    def test_it_refuses_an_order_missing_an_item_or_listing_one_twice(self) -> None:
        for order in (
            f"{self.a.pk},{self.b.pk}",
            f"{self.a.pk},{self.a.pk},{self.b.pk},{self.c.pk}",
        ):
            assert self.reorder(order).status_code == 400, order
        assert self.order() == ["A", "B", "C"]

    def test_it_refuses_an_order_that_is_not_numbers(self) -> None:
        response = self.reorder("a,b,c")
        assert response.status_code == 400
        assert "item numbers" in response.content.decode()

    def test_it_is_a_404_for_another_teacher(self) -> None:
        self.login(self.carol)
        assert self.reorder(f"{self.c.pk},{self.b.pk},{self.a.pk}").status_code == 404
        assert self.move(self.c, "up").status_code == 404
        assert self.order() == ["A", "B", "C"]

    def test_it_reorders_many_items_in_a_fixed_number_of_queries(self) -> None:
        course = CourseFactory.create(teacher=self.alice, slug="big")
        url = reverse("courses:teach_items_reorder", args=["big"])

        def add(n: int) -> None:
            CourseItemFactory.create_batch(n, course=course)

        def run() -> object:
            ids = list(
                CourseItem.objects.filter(course=course)
                .order_by("-position", "-pk")
                .values_list("pk", flat=True)
            )
            response = self.client.post(url, {"order": ",".join(map(str, ids))})
            assert response.status_code == 302
            return response

        # bulk_update writes in batches of 500: the count may grow by a query per batch.
        assert_constant_queries(self, run, add, counts=(10, 400), budget=20)
