"""Where a teacher meets course AI on the course pages: the AI actions and the assistant switch."""

from django.test import override_settings
from django.urls import reverse

from courses.ai import NOT_CONFIGURED
from courses.models import Enrollment, Submission
from courses.tests.factories import CourseFactory, CourseItemFactory
from courses.tests.test_teaching_course_form import course_data
from tests.base import LecternTestCase

ON = {"AI_BASE_URL": "https://ai.example.org/v1", "AI_MODEL": "small", "AI_API_KEY": "k"}
OFF = {"AI_BASE_URL": "", "AI_MODEL": ""}


class CoursePageActionsTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, slug="plants")
        Enrollment.objects.create(course=self.course, student=self.bob)
        assignment = CourseItemFactory.create(course=self.course, assignment=True)
        self.submission = Submission.objects.create(item=assignment, student=self.bob, text="A")
        self.manage = reverse("courses:teach_course", args=["plants"])
        self.grade = reverse("courses:grade", args=[self.submission.pk])
        self.login(self.alice)

    @override_settings(**ON)
    def test_the_course_page_offers_the_teachers_drafts(self) -> None:
        response = self.client.get(self.manage)

        self.assertContains(response, 'id="ai-title"')
        for name in ("draft_announcement", "draft_questions", "draft_recap"):
            self.assertContains(response, reverse(f"ai:{name}", args=["plants"]))

    @override_settings(**ON)
    def test_the_grading_page_offers_drafted_feedback(self) -> None:
        response = self.client.get(self.grade)

        self.assertContains(response, reverse("ai:draft_feedback", args=[self.submission.pk]))
        self.assertContains(response, "Draft feedback with AI")

    @override_settings(**OFF)
    def test_without_ai_the_pages_offer_nothing(self) -> None:
        self.assertNotContains(self.client.get(self.manage), 'id="ai-title"')
        self.assertNotContains(self.client.get(self.grade), "Draft feedback with AI")


class AssistantSwitchTests(LecternTestCase):
    def setUp(self) -> None:
        self.course = CourseFactory.create(teacher=self.alice, slug="plants")
        self.url = reverse("courses:teach_course_edit", args=["plants"])
        self.login(self.alice)

    def edit(self, **changes: object) -> None:
        data = course_data(title=self.course.title, slug="plants", visibility="public")
        response = self.client.post(self.url, {**data, **changes})
        assert response.status_code == 302, response.context["form"].errors

    @override_settings(**ON)
    def test_the_teacher_switches_the_assistant_on_and_off(self) -> None:
        page = self.client.get(self.url)
        self.assertContains(page, "Course assistant for students")
        self.assertContains(page, "Course AI")
        assert not page.context["form"].fields["ai_assistant"].disabled

        self.edit(ai_assistant="on")
        self.course.refresh_from_db()
        assert self.course.ai_assistant

        self.edit()
        self.course.refresh_from_db()
        assert not self.course.ai_assistant

    @override_settings(**OFF)
    def test_without_ai_the_switch_is_disabled_with_the_reason(self) -> None:
        page = self.client.get(self.url)

        assert page.context["form"].fields["ai_assistant"].disabled
        self.assertContains(page, NOT_CONFIGURED)
        self.assertContains(page, 'name="ai_assistant"')
        self.edit(ai_assistant="on")
        self.course.refresh_from_db()
        assert not self.course.ai_assistant

    @override_settings(**OFF)
    def test_without_ai_a_posted_value_keeps_what_is_stored(self) -> None:
        self.course.ai_assistant = True
        self.course.save(update_fields=["ai_assistant"])

        self.edit()

        self.course.refresh_from_db()
        assert self.course.ai_assistant

    @override_settings(**ON)
    def test_a_new_course_starts_with_the_assistant_off(self) -> None:
        response = self.client.post(
            reverse("courses:teach_course_new"), course_data(title="Clay basics")
        )

        assert response.status_code == 302
        assert not self.alice.courses_taught.get(title="Clay basics").ai_assistant
