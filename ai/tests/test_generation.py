"""Generations: an answer written by a task where its page polls it, logged and paid for once."""

from django.core.cache import cache

from ai import generation
from ai.models import AiRequest, AiUsageMonth
from ai.tests import fake_openai
from courses.tests.factories import CourseFactory
from tests.base import LecternTestCase


class GenerationTestCase(LecternTestCase):
    def setUp(self) -> None:
        cache.clear()
        self.fake = fake_openai.serve_for(self, timeout_seconds=2)
        self.fake.answer = "Light becomes sugar [1]. Roots drink [2, 7]."
        self.course = CourseFactory.create(teacher=self.alice)

    def request(self, **overrides: object) -> generation.Request:
        values: dict[str, object] = {
            "action": AiRequest.Action.ASSISTANT,
            "user_id": self.bob.pk,
            "teacher_id": self.alice.pk,
            "course_id": self.course.pk,
            "messages": [{"role": "user", "content": "What do plants eat?"}],
            "max_tokens": 200,
            "sources": [
                generation.Source(1, 11, "Leaves", "/c/items/11/"),
                generation.Source(2, 12, "Roots & <soil>", "/c/items/12/"),
            ],
        }
        values.update(overrides)
        return generation.Request(**values)  # type: ignore[arg-type]

    def test_an_answer_is_written_where_its_owner_reads_it(self) -> None:
        token = generation.start(self.request())

        state = generation.state(token, self.bob)

        assert state is not None
        assert state.status == "done"
        assert state.text == self.fake.answer
        assert '<a href="/c/items/11/" rel="nofollow noopener">[1]</a>' in state.html
        assert '<a href="/c/items/12/" rel="nofollow noopener">[2]</a>' in state.html
        # A number no item has stays text, not a link.
        assert "[7]" in state.html
        assert [source["title"] for source in state.cited] == ["Leaves", "Roots & <soil>"]
        assert self.fake.requests[-1]["stream"] is True

    def test_nobody_else_reads_it(self) -> None:
        token = generation.start(self.request())

        assert generation.state(token, self.carol) is None
        assert generation.state("not-a-token", self.bob) is None

    def test_it_is_logged_with_the_ids_of_its_context_and_paid_once(self) -> None:
        generation.start(self.request())

        logged = AiRequest.objects.get()
        assert logged.outcome == AiRequest.Outcome.OK
        assert logged.user == self.bob
        assert logged.teacher == self.alice
        assert logged.course == self.course
        assert logged.context_item_ids == [11, 12]
        assert (logged.prompt_tokens, logged.completion_tokens, logged.units) == (1200, 300, 2)
        assert AiUsageMonth.objects.get(teacher=self.alice).units == 2

    def test_an_endpoint_error_is_shown_and_costs_nothing(self) -> None:
        self.fake.fail_with = "500"

        token = generation.start(self.request())

        state = generation.state(token, self.bob)
        assert state is not None
        assert state.status == "failed"
        assert "problem answering" in state.error
        assert AiRequest.objects.get().outcome == AiRequest.Outcome.ENDPOINT_ERROR
        assert AiRequest.objects.get().units == 0
        assert not AiUsageMonth.objects.exists()

    def test_a_time_out_is_shown_and_costs_nothing(self) -> None:
        self.fake.fail_with = "slow"

        token = generation.start(self.request())

        state = generation.state(token, self.bob)
        assert state is not None
        assert state.status == "failed"
        assert "took too long" in state.error
        assert AiRequest.objects.get().outcome == AiRequest.Outcome.TIMEOUT
        assert not AiUsageMonth.objects.exists()

    def test_an_answer_cut_off_mid_way_keeps_its_words_and_costs_nothing(self) -> None:
        self.fake.fail_with = "drop"

        state = generation.state(generation.start(self.request()), self.bob)

        assert state is not None
        assert state.status == "failed"
        assert state.text == "Light"
        assert AiRequest.objects.get().units == 0

    def test_a_generation_that_never_ends_is_given_up(self) -> None:
        token = generation.start(self.request())
        stuck = cache.get(generation._key(token))
        stuck.update(status="running", started_at=stuck["started_at"] - 10_000)
        cache.set(generation._key(token), stuck)

        state = generation.state(token, self.bob)

        assert state is not None
        assert (state.status, state.error) == ("failed", generation.LOST)

    def test_the_page_polls_it_as_json(self) -> None:
        token = generation.start(self.request())

        mine = self.login(self.bob).get(f"/ai/answers/{token}/")
        theirs = self.new_client(self.carol).get(f"/ai/answers/{token}/")
        anonymous = self.new_client().get(f"/ai/answers/{token}/")

        assert mine.status_code == 200
        assert mine.json()["status"] == "done"
        assert mine.json()["cited"][0]["url"] == "/c/items/11/"
        assert mine["Cache-Control"].startswith("max-age=0")
        assert theirs.status_code == 404
        assert anonymous.status_code == 302
