"""A teacher's AI drafts of course items: an announcement, assignment questions, a session recap.

The AI endpoint is the local fake; each test checks what reached it, and that
nothing is created until the teacher presses a save button.
"""

from typing import Any

from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from ai import services
from ai.models import AiRequest, AiUsageMonth
from ai.tests import fake_openai
from courses.models import CourseItem, ItemKind
from courses.tests.factories import CourseFactory, CourseItemFactory
from tests.base import LecternTestCase

DRAFT = "Hello everyone! Quiz 2 moves to **Friday**; bring a calculator."
OFF = {"AI_BASE_URL": "", "AI_MODEL": ""}


class TeacherDraftTestCase(LecternTestCase):
    def setUp(self) -> None:
        cache.clear()
        self.fake = fake_openai.serve_for(self)
        self.fake.answer = DRAFT
        self.course = CourseFactory.create(teacher=self.alice, slug="fractions")
        services.give_consent(self.alice)
        self.login(self.alice)

    def sent(self) -> str:
        """Return everything the last request to the endpoint said, as one text."""
        return "\n".join(m["content"] for m in self.fake.requests[-1]["messages"])

    def ask(self, url: str, data: dict[str, Any]) -> Any:
        response = self.client.post(url, {"step": "ask", **data})
        assert response.status_code == 302, response.content.decode()[:2000]
        assert "?answer=" in response["Location"]
        return self.client.get(response["Location"])


class AnnouncementTests(TeacherDraftTestCase):
    url = reverse("ai:draft_announcement", args=["fractions"])
    points = "- Quiz 2 moves to Friday\n- Bring a calculator"

    def test_it_shows_the_form_for_the_teachers_points(self) -> None:
        response = self.client.get(self.url)

        self.assertContains(response, 'name="bullets"')
        self.assertContains(response, "Draft the announcement")
        self.assertContains(response, "left this month")

    def test_it_drafts_from_the_points_and_the_matching_items_only(self) -> None:
        quiz = CourseItemFactory.create(
            course=self.course, title="Quiz 2: fractions", body="The quiz covers halves."
        )
        CourseItemFactory.create(
            course=self.course, note=True, title="Quiz answers", body="Secret quiz key"
        )
        CourseItemFactory.create(title="Quiz elsewhere", body="Another course's quiz")

        page = self.ask(self.url, {"bullets": self.points})

        sent = self.sent()
        assert "Quiz 2 moves to Friday" in sent
        assert "Bring a calculator" in sent
        assert "The quiz covers halves." in sent
        assert "Secret quiz key" not in sent
        assert "Another course's quiz" not in sent
        logged = AiRequest.objects.get()
        assert (logged.action, logged.outcome) == ("announcement", AiRequest.Outcome.OK)
        assert logged.context_item_ids == [quiz.pk]
        assert logged.teacher == self.alice
        assert logged.course == self.course
        # The draft is there to edit; nothing is created yet.
        self.assertContains(page, "Your announcement")
        self.assertContains(page, "data-ai-fill")
        assert page.context["draft_form"].initial["body"] == DRAFT
        assert page.context["draft_form"].initial["title"] == "Quiz 2 moves to Friday"
        assert not CourseItem.objects.filter(kind=ItemKind.ANNOUNCEMENT).exists()

    def test_it_publishes_the_edited_draft(self) -> None:
        page = self.ask(self.url, {"bullets": self.points})
        draft_url = page.wsgi_request.get_full_path()

        response = self.client.post(
            draft_url,
            {"step": "save", "title": "Quiz moved", "body": "Edited by me.", "publish": "1"},
        )

        item = CourseItem.objects.get(kind=ItemKind.ANNOUNCEMENT)
        self.assertRedirects(
            response,
            reverse("courses:teach_course", args=["fractions"]) + f"#item-{item.pk}",
            fetch_redirect_response=False,
        )
        assert (item.title, item.body, item.published) == ("Quiz moved", "Edited by me.", True)
        assert item.published_at is not None
        assert item.author == self.alice
        self.assertContains(self.client.get(response["Location"]), "is published")

    def test_it_saves_the_draft_unpublished(self) -> None:
        page = self.ask(self.url, {"bullets": self.points})

        self.client.post(
            page.wsgi_request.get_full_path(),
            {"step": "save", "title": "Quiz moved", "body": DRAFT, "publish": "0"},
        )

        item = CourseItem.objects.get(kind=ItemKind.ANNOUNCEMENT)
        assert (item.published, item.published_at) == (False, None)

    def test_it_checks_the_draft_like_the_item_editor(self) -> None:
        page = self.ask(self.url, {"bullets": self.points})

        response = self.client.post(
            page.wsgi_request.get_full_path(),
            {"step": "save", "title": "", "body": "", "publish": "1"},
        )

        assert response.status_code == 400
        assert set(response.context["draft_form"].errors) == {"title", "body"}
        assert not CourseItem.objects.exists()

    def test_saving_a_draft_needs_no_units_left(self) -> None:
        page = self.ask(self.url, {"bullets": self.points})
        AiUsageMonth.objects.filter(teacher=self.alice).update(units=50)

        response = self.client.post(
            page.wsgi_request.get_full_path(),
            {"step": "save", "title": "Quiz moved", "body": DRAFT, "publish": "1"},
        )

        assert response.status_code == 302
        assert CourseItem.objects.filter(kind=ItemKind.ANNOUNCEMENT).exists()

    def test_it_asks_for_points(self) -> None:
        response = self.client.post(self.url, {"step": "ask", "bullets": "  "})

        self.assertContains(response, "Write at least one point", status_code=400)
        assert self.fake.requests == []

    def test_it_refuses_points_too_long(self) -> None:
        response = self.client.post(self.url, {"step": "ask", "bullets": "x" * 4001})

        self.assertContains(response, "at most 4,000 characters", status_code=400)
        assert self.fake.requests == []

    def test_it_is_only_for_the_courses_teacher(self) -> None:
        for person in (self.carol, self.bob, self.staff):
            client = self.new_client(person)
            assert client.get(self.url).status_code == 404
            assert client.post(self.url, {"step": "ask", "bullets": "Hi"}).status_code == 404
            assert (
                client.post(self.url, {"step": "save", "title": "T", "body": "B"}).status_code
                == 404
            )
        assert self.fake.requests == []
        assert not CourseItem.objects.exists()

    def test_it_says_when_ai_is_not_configured(self) -> None:
        with override_settings(**OFF):
            page = self.client.get(self.url)
            refused = self.client.post(self.url, {"step": "ask", "bullets": self.points})

        self.assertContains(page, "AI is not configured on this server")
        self.assertNotContains(page, 'name="bullets"')
        self.assertContains(refused, "AI is not configured on this server", status_code=503)
        assert self.fake.requests == []
        assert not AiRequest.objects.exists()

    def test_without_consent_nothing_is_sent_and_the_refusal_is_logged(self) -> None:
        services.withdraw_consent(self.alice)

        page = self.client.get(self.url)
        response = self.client.post(self.url, {"step": "ask", "bullets": self.points})

        self.assertContains(page, "Turn on AI features")
        self.assertContains(page, f'action="{reverse("ai:consent")}"')
        self.assertContains(page, f'name="next" value="{self.url}"')
        self.assertNotContains(page, 'name="bullets"')
        self.assertContains(response, "Turn on AI features", status_code=403)
        assert self.fake.requests == []
        logged = AiRequest.objects.get()
        assert (logged.outcome, logged.action) == (
            AiRequest.Outcome.REFUSED_CONSENT,
            "announcement",
        )
        assert (logged.user, logged.teacher, logged.course) == (self.alice, self.alice, self.course)

    def test_out_of_units_nothing_is_sent_and_the_refusal_is_logged(self) -> None:
        AiUsageMonth.objects.create(teacher=self.alice, month=services.month_of(), units=50)

        response = self.client.post(self.url, {"step": "ask", "bullets": self.points})

        self.assertContains(response, "AI units are used up (50 of 50)", status_code=403)
        assert self.fake.requests == []
        assert AiRequest.objects.get().outcome == AiRequest.Outcome.REFUSED_LIMIT

    def test_an_endpoint_error_is_shown_costs_nothing_and_keeps_the_points(self) -> None:
        self.fake.fail_with = "500"

        page = self.ask(self.url, {"bullets": self.points})

        self.assertContains(page, "The AI service had a problem answering")
        assert "draft_form" not in page.context
        assert page.context["form"].initial["bullets"] == self.points
        assert AiRequest.objects.get().units == 0
        assert not AiUsageMonth.objects.exists()

    def test_nobody_else_gets_the_teachers_inputs_back(self) -> None:
        page = self.ask(self.url, {"bullets": self.points})
        token = page.wsgi_request.GET["answer"]
        other = CourseFactory.create(teacher=self.carol, slug="carols")
        carol = self.new_client(self.carol)

        response = carol.get(
            reverse("ai:draft_announcement", args=[other.slug]) + f"?answer={token}"
        )

        assert response.status_code == 200
        assert "draft_form" not in response.context
        self.assertNotContains(response, "Quiz 2 moves to Friday")


class QuestionsTests(TeacherDraftTestCase):
    url = reverse("ai:draft_questions", args=["fractions"])

    def setUp(self) -> None:
        super().setUp()
        self.fake.answer = "1. What is a half of 8?\n2. Which is larger, 1/3 or 1/4?"
        self.halves = CourseItemFactory.create(
            course=self.course, title="Halves", body="A half is one of two equal parts."
        )
        self.thirds = CourseItemFactory.create(
            course=self.course, title="Thirds", body="A third is one of three.", published=False
        )
        self.other = CourseItemFactory.create(
            course=self.course, title="Decimals", body="Decimals are another story."
        )
        self.secret = CourseItemFactory.create(
            course=self.course, note=True, title="My plan", body="Private plan."
        )

    def test_it_offers_the_courses_items_with_text_drafts_too(self) -> None:
        CourseItemFactory.create(course=self.course, link=True, title="A link", body="")

        response = self.client.get(self.url)

        offered = set(response.context["form"].fields["sources"].queryset)
        assert offered == {self.halves, self.thirds, self.other}
        self.assertContains(response, "Thirds (Material, draft)")

    def test_it_sends_only_the_chosen_items_and_the_teachers_request(self) -> None:
        page = self.ask(
            self.url,
            {"sources": [self.halves.pk, self.thirds.pk], "count": "3", "focus": "key terms"},
        )

        sent = self.sent()
        assert "A half is one of two equal parts." in sent
        assert "A third is one of three." in sent
        assert "Decimals are another story." not in sent
        assert "Private plan." not in sent
        assert "Write 3 questions." in sent
        assert "Focus: key terms" in sent
        logged = AiRequest.objects.get()
        assert (logged.action, logged.context_item_ids) == (
            "questions",
            [self.halves.pk, self.thirds.pk],
        )
        assert page.context["draft_form"].initial["title"] == "Questions: Halves"
        assert CourseItem.objects.filter(kind=ItemKind.ASSIGNMENT).count() == 0

    def test_it_creates_a_draft_assignment_and_opens_its_editor(self) -> None:
        page = self.ask(self.url, {"sources": [self.halves.pk], "count": "2"})

        response = self.client.post(
            page.wsgi_request.get_full_path(),
            {"step": "save", "title": "Fractions practice", "body": "1. Edited question?"},
        )

        item = CourseItem.objects.get(kind=ItemKind.ASSIGNMENT)
        self.assertRedirects(
            response,
            reverse("courses:teach_item_edit", args=["fractions", item.pk]),
            fetch_redirect_response=False,
        )
        assert (item.title, item.body, item.published) == (
            "Fractions practice",
            "1. Edited question?",
            False,
        )
        assert (item.due_at, item.points) == (None, None)

    def test_it_refuses_a_private_note_or_another_courses_item(self) -> None:
        elsewhere = CourseItemFactory.create(title="Elsewhere")
        for chosen in (self.secret.pk, elsewhere.pk):
            response = self.client.post(
                self.url, {"step": "ask", "sources": [chosen], "count": "3"}
            )
            assert response.status_code == 400
            assert "isn't in this course" in response.context["form"].errors["sources"][0]
        assert self.fake.requests == []

    def test_it_asks_for_one_to_twenty_questions(self) -> None:
        for count in ("0", "21", "many"):
            response = self.client.post(
                self.url, {"step": "ask", "sources": [self.halves.pk], "count": count}
            )
            assert response.status_code == 400
            assert "count" in response.context["form"].errors
        assert self.fake.requests == []

    def test_it_asks_to_choose_an_item(self) -> None:
        response = self.client.post(self.url, {"step": "ask", "count": "3"})

        self.assertContains(response, "Choose at least one item", status_code=400)

    def test_it_is_only_for_the_courses_teacher(self) -> None:
        carol = self.new_client(self.carol)

        assert carol.get(self.url).status_code == 404
        assert carol.post(self.url, {"step": "save", "title": "T", "body": "B"}).status_code == 404

    def test_without_consent_nothing_is_sent(self) -> None:
        services.withdraw_consent(self.alice)

        response = self.client.post(
            self.url, {"step": "ask", "sources": [self.halves.pk], "count": "3"}
        )

        assert response.status_code == 403
        assert self.fake.requests == []
        assert AiRequest.objects.get().outcome == AiRequest.Outcome.REFUSED_CONSENT


class RecapTests(TeacherDraftTestCase):
    url = reverse("ai:draft_recap", args=["fractions"])

    def setUp(self) -> None:
        super().setUp()
        self.fake.answer = "Today we covered halves and thirds. Practise at home."
        self.session = CourseItemFactory.create(
            course=self.course, session=True, title="Week 3", body="Agenda: halves."
        )

    def test_it_offers_the_courses_sessions(self) -> None:
        CourseItemFactory.create(session=True, title="Someone else's session")

        response = self.client.get(self.url)

        self.assertContains(response, "Which session?")
        assert response.context["sessions"] == [self.session]

    def test_it_says_to_schedule_a_session_first(self) -> None:
        self.session.delete()

        response = self.client.get(self.url)

        self.assertContains(response, "No sessions yet")

    def test_it_starts_the_notes_from_the_sessions_description(self) -> None:
        response = self.client.get(self.url, {"session": self.session.pk})

        assert response.context["form"].initial["notes"] == "Agenda: halves."
        self.assertContains(response, "Week 3")

    def test_a_session_of_another_course_is_not_found(self) -> None:
        elsewhere = CourseItemFactory.create(session=True)

        assert self.client.get(self.url, {"session": elsewhere.pk}).status_code == 404
        assert self.client.get(self.url, {"session": "x"}).status_code == 404

    def test_it_drafts_from_the_notes_and_publishes_the_recap(self) -> None:
        CourseItemFactory.create(course=self.course, body="Unrelated material on halves.")
        notes = "We did halves, then thirds. Homework: sheet 4."

        page = self.ask(self.url, {"session": self.session.pk, "notes": notes})

        sent = self.sent()
        assert notes in sent
        assert "Week 3" in sent
        assert "Unrelated material" not in sent
        assert AiRequest.objects.get().context_item_ids == [self.session.pk]
        assert page.context["draft_form"].initial["title"] == "Recap: Week 3"
        assert not CourseItem.objects.filter(kind=ItemKind.ANNOUNCEMENT).exists()

        self.client.post(
            page.wsgi_request.get_full_path(),
            {"step": "save", "title": "Recap: Week 3", "body": "Edited recap.", "publish": "1"},
        )

        recap = CourseItem.objects.get(kind=ItemKind.ANNOUNCEMENT)
        assert (recap.title, recap.body, recap.published) == (
            "Recap: Week 3",
            "Edited recap.",
            True,
        )

    def test_it_asks_for_notes(self) -> None:
        response = self.client.post(
            self.url, {"step": "ask", "session": self.session.pk, "notes": ""}
        )

        self.assertContains(response, "Paste or write what was covered", status_code=400)
        assert self.fake.requests == []

    def test_it_is_only_for_the_courses_teacher(self) -> None:
        carol = self.new_client(self.carol)

        assert carol.get(self.url).status_code == 404
        response = carol.post(self.url, {"step": "ask", "session": self.session.pk, "notes": "x"})
        assert response.status_code == 404
        assert self.fake.requests == []
