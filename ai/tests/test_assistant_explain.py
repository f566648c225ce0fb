""" "Explain this": one item explained in plain words, from it and a few related items."""

from django.test import override_settings
from django.urls import reverse

from ai import services
from ai.models import AiRequest, AiUsageMonth
from ai.tests.test_assistant import AssistantTestCase
from ai.views import assistant as views
from courses.tests.factories import CourseItemFactory


class ExplainTestCase(AssistantTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.related = CourseItemFactory.create(
            course=self.course,
            title="Photosynthesis in the dark",
            body="Without light, photosynthesis stops and plants live on their sugar.",
        )
        self.explain_url = reverse("ai:explain_item", args=["botany", self.lesson.pk])
        self.item_url = reverse("courses:item", args=["botany", self.lesson.pk])


class ExplainingTests(ExplainTestCase):
    def test_it_explains_the_item_first_with_related_items_after(self) -> None:
        CourseItemFactory.create(
            course=self.course, title="Photosynthesis answers", body="DRAFTWORD", published=False
        )
        services.give_consent(self.bob)

        response = self.login(self.bob).post(self.explain_url)

        assert response.status_code == 302
        assert response["Location"].startswith(f"{self.explain_url}?answer=")
        system, user = self.fake.requests[-1]["messages"]
        assert views.EXPLAIN_INSTRUCTION in system["content"]
        content = user["content"]
        assert "<<<ITEM 1: Photosynthesis>>>" in content
        assert "<<<ITEM 2: Photosynthesis in the dark>>>" in content
        assert content.index("Chlorophyll absorbs the light.") < content.index("<<<END ITEM 1>>>")
        assert "DRAFTWORD" not in content
        assert content.count("<<<ITEM 1:") == 1
        logged = AiRequest.objects.get()
        assert (logged.action, logged.outcome) == ("explain_item", "ok")
        assert logged.context_item_ids == [self.lesson.pk, self.related.pk]
        assert AiUsageMonth.objects.get(teacher=self.alice).units == 2

    def test_the_answer_page_cites_the_items_and_links_back(self) -> None:
        services.give_consent(self.bob)
        self.fake.answer = "Chlorophyll catches light [1]; at night plants use sugar [2]."

        response = self.login(self.bob).post(self.explain_url)
        page = self.client.get(response["Location"])

        related_url = reverse("courses:item", args=["botany", self.related.pk])
        self.assertContains(page, f'<a href="{self.item_url}" rel="nofollow noopener">[1]</a>')
        self.assertContains(page, f'<a href="{related_url}" rel="nofollow noopener">[2]</a>')
        self.assertContains(page, "Explanation")
        self.assertContains(page, "Back to the material")
        self.assertContains(page, f'href="{self.item_url}"')

    def test_the_teacher_previews_it(self) -> None:
        services.give_consent(self.alice)

        response = self.login(self.alice).post(self.explain_url)

        assert response.status_code == 302
        assert len(self.fake.requests) == 1
        assert AiRequest.objects.get().user == self.alice

    def test_the_item_page_offers_it_as_a_button_that_posts(self) -> None:
        page = self.login(self.bob).get(self.item_url)

        html = page.content.decode()
        form = html.index(f'action="{self.explain_url}"')
        assert html.rfind('method="post"', 0, form) > html.rfind("<form", 0, form)
        assert "csrfmiddlewaretoken" in html[form : html.index("</form>", form)]
        self.assertContains(page, "Explain this")


class ExplainRefusalTests(ExplainTestCase):
    def test_without_consent_nothing_is_sent_and_it_asks_for_consent(self) -> None:
        response = self.login(self.bob).post(self.explain_url)

        self.assertContains(response, views.NO_CONSENT, status_code=403)
        self.assertContains(response, f'name="next" value="{self.explain_url}"', status_code=403)
        assert self.fake.requests == []
        assert AiRequest.objects.get().outcome == AiRequest.Outcome.REFUSED_CONSENT

    def test_after_withdrawal_nothing_is_sent(self) -> None:
        services.give_consent(self.bob)
        self.login(self.bob).post(self.explain_url)
        services.withdraw_consent(self.bob)

        response = self.client.post(self.explain_url)

        assert response.status_code == 403
        assert len(self.fake.requests) == 1

    def test_a_draft_or_a_private_note_cannot_be_explained(self) -> None:
        draft = CourseItemFactory.create(course=self.course, published=False)
        note = CourseItemFactory.create(course=self.course, note=True)
        services.give_consent(self.bob)
        services.give_consent(self.alice)

        for person in (self.bob, self.alice):
            web = self.new_client(person)
            for item in (draft, note):
                url = reverse("ai:explain_item", args=["botany", item.pk])
                assert web.post(url).status_code == 404
        assert self.fake.requests == []

    def test_an_outsider_or_another_course_gets_a_404(self) -> None:
        services.give_consent(self.carol)
        elsewhere = CourseItemFactory.create()

        outsider = self.new_client(self.carol).post(self.explain_url)
        wrong_course = self.login(self.bob).post(
            reverse("ai:explain_item", args=["botany", elsewhere.pk])
        )

        assert (outsider.status_code, wrong_course.status_code) == (404, 404)
        assert self.fake.requests == []

    def test_switched_off_it_says_so_sends_nothing_and_is_not_offered(self) -> None:
        self.course.ai_assistant = False
        self.course.save(update_fields=["ai_assistant"])
        services.give_consent(self.bob)

        refused = self.login(self.bob).post(self.explain_url)
        item_page = self.client.get(self.item_url)

        self.assertContains(
            refused, "hasn&#x27;t switched on the course assistant", status_code=403
        )
        self.assertNotContains(item_page, self.explain_url)
        assert self.fake.requests == []

    def test_without_ai_configured_it_is_not_offered(self) -> None:
        with override_settings(AI_BASE_URL="", AI_MODEL=""):
            item_page = self.login(self.bob).get(self.item_url)
            page = self.client.get(self.explain_url)

        self.assertNotContains(item_page, "Explain this")
        self.assertContains(page, "AI is not configured on this server.")
