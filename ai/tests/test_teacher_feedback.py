"""Drafting feedback on a submission with AI, and saving it through grading as the teacher's own.

A student's work reaches the AI endpoint (the local fake) only when that student
has turned on AI features.
"""

from typing import Any

from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from ai import services
from ai.models import AiRequest, AiUsageMonth
from ai.tests import fake_openai
from courses.models import Enrollment, Submission
from courses.tests.factories import CourseFactory, CourseItemFactory
from tests.base import LecternTestCase

WORK = "Photosynthesis happens in the roots, I think."
RUBRIC = "- Right idea about light\n- Wrong about roots: it's the leaves"
DRAFT = "You have the right idea about light. Look again at where it happens: the leaves."


class FeedbackTests(LecternTestCase):
    def setUp(self) -> None:
        cache.clear()
        self.fake = fake_openai.serve_for(self)
        self.fake.answer = DRAFT
        course = CourseFactory.create(teacher=self.alice, slug="plants")
        Enrollment.objects.create(course=course, student=self.bob)
        self.assignment = CourseItemFactory.create(
            course=course,
            assignment=True,
            title="Where plants make food",
            body="Explain where photosynthesis happens.",
        )
        self.submission = Submission.objects.create(
            item=self.assignment, student=self.bob, text=WORK
        )
        self.url = reverse("ai:draft_feedback", args=[self.submission.pk])
        services.give_consent(self.alice)
        services.give_consent(self.bob)
        self.login(self.alice)

    def sent(self) -> str:
        return "\n".join(m["content"] for m in self.fake.requests[-1]["messages"])

    def draft(self) -> Any:
        response = self.client.post(self.url, {"step": "ask", "rubric": RUBRIC})
        assert response.status_code == 302
        return self.client.get(response["Location"])

    def test_it_shows_the_work_and_asks_for_rubric_notes(self) -> None:
        response = self.client.get(self.url)

        self.assertContains(response, WORK)
        self.assertContains(response, 'name="rubric"')

    def test_it_sends_the_work_the_assignment_and_the_rubric_but_not_who_wrote_it(self) -> None:
        page = self.draft()

        sent = self.sent()
        assert WORK in sent
        assert "Explain where photosynthesis happens." in sent
        assert "out of 10" in sent
        assert "Wrong about roots" in sent
        assert "Bob" not in sent
        assert "bob@example.com" not in sent
        logged = AiRequest.objects.get()
        assert (logged.action, logged.context_item_ids) == ("feedback", [self.assignment.pk])
        assert (logged.user, logged.teacher) == (self.alice, self.alice)
        # A draft to edit: nothing is graded yet.
        form = page.context["draft_form"]
        assert form.initial["feedback"] == DRAFT
        self.assertContains(page, "data-ai-fill")
        self.submission.refresh_from_db()
        assert (self.submission.graded_at, self.submission.feedback) == (None, "")

    def test_it_saves_the_edited_feedback_through_grading(self) -> None:
        page = self.draft()

        response = self.client.post(
            page.wsgi_request.get_full_path(),
            {"step": "save", "feedback": "Mine now.", "points": "7", "action": "return"},
        )

        self.assertRedirects(
            response, reverse("courses:grading", args=["plants"]), fetch_redirect_response=False
        )
        self.submission.refresh_from_db()
        assert (self.submission.feedback, self.submission.points_awarded) == ("Mine now.", 7)
        assert self.submission.graded_by == self.alice
        assert self.submission.returned_at is not None
        self.assertContains(self.client.get(response["Location"]), "returned to Bob Baker")

    def test_it_can_save_without_returning(self) -> None:
        page = self.draft()

        self.client.post(
            page.wsgi_request.get_full_path(),
            {"step": "save", "feedback": "Mine.", "points": "5", "action": "save"},
        )

        self.submission.refresh_from_db()
        assert self.submission.graded_at is not None
        assert self.submission.returned_at is None

    def test_it_checks_the_points_like_the_grading_page(self) -> None:
        page = self.draft()

        response = self.client.post(
            page.wsgi_request.get_full_path(),
            {"step": "save", "feedback": "Mine.", "points": "11", "action": "return"},
        )

        assert response.status_code == 400
        assert "points" in response.context["draft_form"].errors
        self.submission.refresh_from_db()
        assert self.submission.graded_at is None

    def test_it_sends_nothing_when_the_student_has_not_turned_on_ai(self) -> None:
        services.withdraw_consent(self.bob)

        page = self.client.get(self.url)
        response = self.client.post(self.url, {"step": "ask", "rubric": RUBRIC})

        for answer, status in ((page, 200), (response, 403)):
            self.assertContains(answer, "Bob Baker hasn", status_code=status)
            self.assertContains(answer, "You can still write feedback yourself", status_code=status)
            self.assertContains(
                answer, reverse("courses:grade", args=[self.submission.pk]), status_code=status
            )
            self.assertNotContains(answer, 'name="rubric"', status_code=status)
        assert self.fake.requests == []
        logged = AiRequest.objects.get()
        assert (logged.action, logged.outcome) == ("feedback", AiRequest.Outcome.REFUSED_CONSENT)

    def test_it_sends_nothing_without_the_teachers_consent(self) -> None:
        services.withdraw_consent(self.alice)

        response = self.client.post(self.url, {"step": "ask", "rubric": RUBRIC})

        self.assertContains(response, "Turn on AI features", status_code=403)
        assert self.fake.requests == []
        assert AiRequest.objects.get().outcome == AiRequest.Outcome.REFUSED_CONSENT

    def test_it_refuses_when_the_units_are_used_up(self) -> None:
        AiUsageMonth.objects.create(teacher=self.alice, month=services.month_of(), units=50)

        response = self.client.post(self.url, {"step": "ask", "rubric": RUBRIC})

        self.assertContains(response, "used up", status_code=403)
        assert self.fake.requests == []
        assert AiRequest.objects.get().outcome == AiRequest.Outcome.REFUSED_LIMIT

    def test_an_endpoint_error_is_shown_and_costs_nothing(self) -> None:
        self.fake.fail_with = "429"

        page = self.draft()

        self.assertContains(page, "The AI service is busy")
        assert page.context["form"].initial["rubric"] == RUBRIC
        assert AiRequest.objects.get().outcome == AiRequest.Outcome.ENDPOINT_ERROR
        assert not AiUsageMonth.objects.exists()

    def test_it_asks_for_rubric_notes(self) -> None:
        response = self.client.post(self.url, {"step": "ask", "rubric": ""})

        self.assertContains(response, "Write a few rubric notes", status_code=400)
        assert self.fake.requests == []

    def test_it_is_only_for_the_courses_teacher(self) -> None:
        for person in (self.carol, self.bob, self.staff):
            client = self.new_client(person)
            assert client.get(self.url).status_code == 404
            saved = client.post(self.url, {"step": "save", "feedback": "x", "points": "1"})
            assert saved.status_code == 404
        assert self.fake.requests == []
        self.submission.refresh_from_db()
        assert self.submission.graded_at is None

    def test_it_says_when_ai_is_not_configured(self) -> None:
        with override_settings(AI_BASE_URL="", AI_MODEL=""):
            page = self.client.get(self.url)

        self.assertContains(page, "AI is not configured on this server")
        self.assertNotContains(page, 'name="rubric"')
