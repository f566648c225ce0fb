"""The teacher's AI usage page for a course: units this month, by action, by month, the log."""

from collections.abc import Sequence
from datetime import UTC, datetime

import time_machine
from django.urls import reverse

from accounts.models import User
from ai import client, services
from ai.models import AiRequest
from courses.models import Course
from courses.tests.factories import CourseFactory, CourseItemFactory
from tests.base import LecternTestCase, assert_constant_queries

OK = AiRequest.Outcome.OK
NOW = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)


def answer(prompt: int, completion: int) -> client.Completion:
    return client.Completion("text", prompt, completion, "small", 900)


@time_machine.travel(NOW, tick=False)
class UsagePageTests(LecternTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.course = CourseFactory.create(teacher=self.alice, title="Botany")
        self.other_course = CourseFactory.create(teacher=self.alice, title="Zoology")
        self.leaf = CourseItemFactory.create(course=self.course, title="Leaves and light")
        self.root = CourseItemFactory.create(course=self.course, title="Roots")
        self.url = reverse("ai:usage", args=[self.course.slug])

    def ask(
        self,
        *,
        course: Course | None = None,
        user: User | None = None,
        action: str = "assistant",
        outcome: str = OK,
        items: Sequence[int] = (),
        tokens: int = 1500,
    ) -> AiRequest:
        return services.record(
            action=action,
            outcome=outcome,
            user=user or self.bob,
            teacher=self.alice,
            course=course or self.course,
            context_item_ids=list(items),
            completion=answer(tokens, 0),
        )

    def test_it_shows_the_teachers_units_this_month_against_the_allowance(self) -> None:
        self.ask(tokens=1500)  # 2 units
        self.ask(course=self.other_course, tokens=3000)  # 3 units, another course

        response = self.login(self.alice).get(self.url)

        self.assertContains(response, "Your AI units in May 2026")
        self.assertContains(response, 'value="5"')
        self.assertContains(response, 'max="50"')
        assert (response.context["allowance"].used, response.context["allowance"].limit) == (5, 50)
        self.assertContains(response, "45 units left")
        self.assertContains(response, "1st of each month (UTC)")

    def test_it_shows_this_courses_requests_by_action_and_outcome(self) -> None:
        self.ask(tokens=1500)
        self.ask(tokens=800)
        self.ask(action="recap", user=self.alice, tokens=2100)
        self.ask(outcome=AiRequest.Outcome.REFUSED_LIMIT)
        self.ask(course=self.other_course, action="questions")

        response = self.login(self.alice).get(self.url)

        by_action = {(t.label, t.outcome): t for t in response.context["by_action"]}
        assert set(by_action) == {
            ("Course assistant", "Answered"),
            ("Course assistant", "Refused: out of units"),
            ("Summarise a session", "Answered"),
        }
        assistant = by_action[("Course assistant", "Answered")]
        assert (assistant.requests, assistant.units, assistant.tokens) == (2, 3, 2300)
        assert by_action[("Course assistant", "Refused: out of units")].units == 0
        assert response.context["course_units"] == 6

    def test_it_leaves_last_month_out_of_this_months_figures(self) -> None:
        with time_machine.travel(datetime(2026, 4, 30, 23, 59, tzinfo=UTC), tick=False):
            self.ask(tokens=4000)
        self.ask(tokens=1000)

        response = self.login(self.alice).get(self.url)

        assert response.context["course_units"] == 1
        assert response.context["allowance"].used == 1
        months = {t.label: t.units for t in response.context["months"]}
        assert months == {
            "December 2025": 0,
            "January 2026": 0,
            "February 2026": 0,
            "March 2026": 0,
            "April 2026": 4,
            "May 2026": 1,
        }

    def test_it_lists_the_latest_requests_with_who_asked_and_the_items_used(self) -> None:
        self.ask(items=[self.leaf.pk, self.root.pk])
        self.ask(user=self.alice, action="announcement", items=[self.root.pk])

        response = self.login(self.alice).get(self.url)

        log = response.context["log"]
        assert [row.who for row in log] == ["You", "Bob Baker"]
        self.assertContains(response, "Bob Baker")
        leaf_url = reverse("courses:teach_item_edit", args=[self.course.slug, self.leaf.pk])
        self.assertContains(response, f'<a href="{leaf_url}">Leaves and light</a>', html=True)

    def test_it_names_items_since_deleted_without_their_title(self) -> None:
        gone = CourseItemFactory.create(course=self.course, title="Old notes")
        self.ask(items=[gone.pk])
        gone.delete()

        response = self.login(self.alice).get(self.url)

        self.assertContains(response, "1 deleted item")
        self.assertNotContains(response, "Old notes")

    def test_it_never_shows_another_courses_items(self) -> None:
        elsewhere = CourseItemFactory.create(course=self.other_course, title="Elephants")
        self.ask(items=[elsewhere.pk])

        self.assertNotContains(self.login(self.alice).get(self.url), "Elephants")

    def test_it_shows_only_the_last_fifty_requests(self) -> None:
        for _ in range(52):
            self.ask()

        response = self.login(self.alice).get(self.url)

        assert len(response.context["log"]) == 50
        assert response.context["course_requests"] == 52

    def test_it_teaches_what_to_do_when_nothing_was_asked(self) -> None:
        response = self.login(self.alice).get(self.url)

        self.assertContains(response, "No AI requests this month")
        self.assertContains(response, "Nothing asked yet")

    def test_it_says_when_ai_is_not_configured(self) -> None:
        with self.settings(AI_BASE_URL="", AI_MODEL=""):
            response = self.login(self.alice).get(self.url)

        self.assertContains(response, client.NOT_CONFIGURED)

    def test_it_is_only_for_the_courses_teacher(self) -> None:
        for person in (self.bob, self.carol, self.dave, self.staff):
            assert self.new_client(person).get(self.url).status_code == 404
        response = self.client.get(self.url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))

    def test_it_runs_as_many_queries_for_a_thousand_requests_as_for_ten(self) -> None:
        self.login(self.alice)
        items = [self.leaf.pk, self.root.pk]
        students = [self.bob, self.dave]
        actions = [choice for choice, _ in AiRequest.Action.choices]

        def make_rows(count: int) -> None:
            AiRequest.objects.bulk_create(
                AiRequest(
                    user=students[n % 2],
                    teacher=self.alice,
                    course=self.course,
                    action=actions[n % len(actions)],
                    outcome=OK,
                    context_item_ids=items[: n % 3],
                    prompt_tokens=700,
                    units=1,
                )
                for n in range(count)
            )

        assert_constant_queries(self, self.url, make_rows)
