""" "Explain this page": a summary of each policy page, written once per version from its text."""

from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from ai import client
from ai.models import AiRequest, AiUsageMonth, PolicySummary
from ai.tests import fake_openai
from ai.views import policies
from privacy import explain
from tests.base import LecternTestCase, fresh_rate_window

PAGES = {
    "privacy": "privacy_policy",
    "terms": "terms",
    "cookies": "cookies",
    "subprocessors": "subprocessors",
}


def explain_url(page: str) -> str:
    return reverse("ai:explain_page", args=[page])


class ExplainPageTests(LecternTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.fake = fake_openai.serve_for(self)
        self.fake.answer = (
            "This page says **what Lectern keeps** and why.\n\n- You can ask for a copy."
        )

    def sent_text(self) -> str:
        return "\n".join(m["content"] for m in self.fake.requests[-1]["messages"])

    def test_it_shows_the_button_on_each_policy_page(self) -> None:
        for page, url_name in PAGES.items():
            response = self.client.get(reverse(url_name))
            self.assertContains(response, "Explain this page")
            self.assertContains(response, f'href="{explain_url(page)}"')

    def test_it_shows_no_button_on_the_other_documents(self) -> None:
        response = self.client.get(reverse("community_guidelines"))
        self.assertNotContains(response, "Explain this page")

    def test_it_offers_to_write_a_summary_when_there_is_none(self) -> None:
        response = self.client.get(explain_url("terms"))

        self.assertContains(response, "No summary of this version yet")
        self.assertContains(response, "Write a summary")
        assert self.fake.requests == []

    def test_it_writes_a_summary_once_for_everyone(self) -> None:
        response = self.client.post(explain_url("privacy"))
        self.assertRedirects(response, explain_url("privacy"))

        for visitor in (self.client, self.new_client(), self.new_client(self.dave)):
            page = visitor.get(explain_url("privacy"))
            self.assertContains(page, "<strong>what Lectern keeps</strong>", html=False)
            self.assertContains(page, "is what counts")
        self.assertRedirects(self.new_client().post(explain_url("privacy")), explain_url("privacy"))

        assert len(self.fake.requests) == 1
        summary = PolicySummary.objects.get()
        policy = explain.policy_text("privacy")
        assert policy is not None
        assert (summary.page, summary.sha256, summary.model) == (
            "privacy",
            policy.sha256,
            fake_openai.MODEL,
        )

    def test_it_uses_the_policy_documents_own_version(self) -> None:
        from privacy import documents

        self.client.post(explain_url("terms"))

        assert PolicySummary.objects.get().sha256 == documents.documents()["terms"].sha256

    def test_it_sends_the_page_text_and_nothing_about_the_reader(self) -> None:
        self.login(self.bob)
        self.client.post(explain_url("cookies"))

        sent = self.sent_text()
        assert "sessionid" in sent or "Keeps you signed in" in sent
        for personal in ("Bob", "Baker", "bob@example.com"):
            assert personal not in sent
        assert self.fake.requests[-1]["model"] == "small"

    def test_it_sends_the_whole_policy_inside_its_delimiters(self) -> None:
        self.client.post(explain_url("terms"))

        from privacy import documents

        user_message = self.fake.requests[-1]["messages"][1]["content"]
        assert user_message.endswith("<<<END PAGE>>>")
        body = documents.documents()["terms"].text.strip().splitlines()[-1]
        assert body.strip() in user_message

    def test_it_logs_the_request_without_counting_anyones_units(self) -> None:
        self.login(self.alice)
        self.client.post(explain_url("subprocessors"))

        logged = AiRequest.objects.get()
        assert (logged.action, logged.outcome, logged.user, logged.teacher, logged.course) == (
            AiRequest.Action.EXPLAIN_PAGE,
            AiRequest.Outcome.OK,
            self.alice,
            None,
            None,
        )
        # What it cost is logged for the site's totals; it counts against no one's allowance.
        assert logged.units == 2
        assert not AiUsageMonth.objects.exists()

    def test_it_logs_an_anonymous_visitors_request_without_a_person(self) -> None:
        self.client.post(explain_url("terms"))

        assert AiRequest.objects.get().user is None

    def test_it_writes_a_new_summary_when_the_page_changes(self) -> None:
        self.client.post(explain_url("cookies"))
        self.fake.answer = "The new version."

        with override_settings(SESSION_COOKIE_AGE=7 * 24 * 3600):
            self.assertNotContains(self.client.get(explain_url("cookies")), "what Lectern keeps")
            self.client.post(explain_url("cookies"))
            self.assertContains(self.client.get(explain_url("cookies")), "The new version.")
            assert "7 days" in self.sent_text()

        assert len(self.fake.requests) == 2
        assert PolicySummary.objects.filter(page="cookies").count() == 2
        self.assertContains(self.client.get(explain_url("cookies")), "what Lectern keeps")

    def test_it_renders_the_summary_as_sanitised_markdown(self) -> None:
        self.fake.answer = "Fine **print**.\n\n<script>alert(1)</script> [x](javascript:alert(1))"
        self.client.post(explain_url("terms"))

        page = self.client.get(explain_url("terms")).content.decode()
        assert "<strong>print</strong>" in page
        assert "<script>alert(1)" not in page
        assert "javascript:alert" not in page

    def test_it_stores_nothing_when_the_endpoint_fails(self) -> None:
        self.fake.fail_with = "500"

        response = self.client.post(explain_url("privacy"))

        self.assertContains(response, client.SERVER_ERROR, status_code=503)
        assert not PolicySummary.objects.exists()
        assert AiRequest.objects.get().outcome == AiRequest.Outcome.ENDPOINT_ERROR
        # The claim is let go: the next visitor may try again.
        self.assertContains(self.client.get(explain_url("privacy")), "Write a summary")

    def test_it_stores_nothing_for_an_empty_answer(self) -> None:
        self.fake.answer = "   "

        response = self.client.post(explain_url("terms"))

        self.assertContains(response, policies.EMPTY_ANSWER, status_code=503)
        assert not PolicySummary.objects.exists()

    def test_it_tells_a_second_visitor_the_summary_is_on_its_way(self) -> None:
        policy = explain.policy_text("terms")
        assert policy is not None
        cache.add(policies._claim_key(policy), 1, 60)

        response = self.client.post(explain_url("terms"), follow=True)

        self.assertContains(response, "being written right now")
        assert self.fake.requests == []

    def test_it_limits_how_many_summaries_one_address_asks_for(self) -> None:
        self.fake.fail_with = "500"  # nothing is stored, so every POST asks again
        with fresh_rate_window(policies.WRITE_LIMIT.window):
            for _ in range(policies.WRITE_LIMIT.count):
                assert self.client.post(explain_url("terms")).status_code == 503
            response = self.new_client().post(explain_url("privacy"))

        self.assertContains(response, "Too many summaries asked for", status_code=429)
        assert int(response["Retry-After"]) > 0
        assert len(self.fake.requests) == policies.WRITE_LIMIT.count

    def test_it_serves_a_written_summary_past_the_limit(self) -> None:
        self.client.post(explain_url("terms"))
        with fresh_rate_window(policies.WRITE_LIMIT.window):
            for _ in range(policies.WRITE_LIMIT.count * 2):
                response = self.client.get(explain_url("terms"))
                assert response.status_code == 200
        self.assertContains(response, "what Lectern keeps")

    def test_it_knows_only_the_policy_pages(self) -> None:
        for page in ("instructor-agreement", "community-guidelines", "nowhere"):
            assert self.client.get(explain_url(page)).status_code == 404

    def test_it_refuses_other_methods(self) -> None:
        assert self.client.put(explain_url("terms")).status_code == 405


@override_settings(AI_BASE_URL="", AI_MODEL="")
class ExplainPageNotConfiguredTests(LecternTestCase):
    def test_it_shows_no_button(self) -> None:
        for url_name in PAGES.values():
            self.assertNotContains(self.client.get(reverse(url_name)), "Explain this page")

    def test_it_says_ai_is_not_configured(self) -> None:
        for method in (self.client.get, self.client.post):
            response = method(explain_url("privacy"))
            self.assertContains(response, client.NOT_CONFIGURED, status_code=404)
        assert not AiRequest.objects.exists()
