"""Course AI in the admin: read-only logs with this month's totals, deletable summaries."""

from datetime import UTC, datetime

import time_machine
from django.db.models import Model
from django.urls import reverse

from ai import client, services
from ai.models import AiConsent, AiRequest, AiUsageMonth, PolicySummary
from courses.tests.factories import CourseFactory
from tests.base import LecternTestCase

NOW = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)


def answer(prompt: int, completion: int) -> client.Completion:
    return client.Completion("text", prompt, completion, "small", 1250)


def url(model: type[Model], action: str, *args: object) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{action}", args=args)


@time_machine.travel(NOW, tick=False)
class AiAdminTests(LecternTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.course = CourseFactory.create(teacher=self.alice, title="Botany")
        with time_machine.travel(datetime(2026, 4, 10, tzinfo=UTC), tick=False):
            self.old = services.record(
                action="recap", outcome="ok", user=self.alice, teacher=self.alice,
                course=self.course, completion=answer(9000, 0),
            )  # fmt: skip
        self.asked = services.record(
            action="assistant", outcome="ok", user=self.bob, teacher=self.alice,
            course=self.course, context_item_ids=[4], completion=answer(1500, 500),
        )  # fmt: skip
        services.record(
            action="assistant", outcome="refused_limit", user=self.dave, teacher=self.alice,
            course=self.course,
        )  # fmt: skip
        services.record(
            action="announcement", outcome="endpoint_error", user=self.alice, teacher=self.alice,
            course=self.course, error=client.BUSY,
        )  # fmt: skip
        AiConsent.objects.create(user=self.bob, given=True, endpoint_host="ai.example.com")
        self.summary = PolicySummary.objects.create(
            page="terms", sha256="a" * 64, text="In short: be kind.", model="small"
        )
        self.login(self.staff)

    def test_it_lists_requests_with_this_months_totals(self) -> None:
        response = self.client.get(url(AiRequest, "changelist"))

        self.assertContains(response, "May 2026 so far (UTC), site-wide")
        totals = response.context["ai_totals"]
        assert (totals["requests"], totals["answered"], totals["refused"], totals["failed"]) == (
            3,
            1,
            1,
            1,
        )
        assert (totals["units"], totals["tokens"], totals["teachers"]) == (2, 2000, 1)
        self.assertContains(response, "Botany")
        self.assertContains(response, "1.2 s")

    def test_it_filters_requests_by_month_action_and_outcome(self) -> None:
        april = self.client.get(url(AiRequest, "changelist"), {"month": "2026-04"})
        assert [r.pk for r in april.context["cl"].result_list] == [self.old.pk]

        refused = self.client.get(url(AiRequest, "changelist"), {"outcome": "refused_limit"})
        assert [r.action for r in refused.context["cl"].result_list] == ["assistant"]

        nonsense = self.client.get(url(AiRequest, "changelist"), {"month": "soon"})
        assert nonsense.status_code == 200
        assert list(nonsense.context["cl"].result_list) == []

    def test_it_shows_a_request_read_only(self) -> None:
        response = self.client.get(url(AiRequest, "change", self.asked.pk))

        assert response.status_code == 200
        self.assertNotContains(response, 'name="_save"')
        self.assertContains(response, "[4]")

    def test_it_refuses_adding_changing_or_deleting_log_rows(self) -> None:
        assert self.client.get(url(AiRequest, "add")).status_code == 403
        assert self.client.get(url(AiRequest, "delete", self.asked.pk)).status_code == 403
        self.client.post(url(AiRequest, "change", self.asked.pk), {"units": 0})
        self.asked.refresh_from_db()
        assert self.asked.units == 2
        for model in (AiUsageMonth, AiConsent, PolicySummary):
            assert self.client.get(url(model, "add")).status_code == 403

    def test_it_lists_units_per_teacher_and_month_with_totals(self) -> None:
        response = self.client.get(url(AiUsageMonth, "changelist"))

        self.assertContains(response, "May 2026")
        self.assertContains(response, "April 2026")
        self.assertContains(response, "Alice Archer")
        assert response.context["ai_totals"]["units"] == 2

    def test_it_lists_consents(self) -> None:
        response = self.client.get(url(AiConsent, "changelist"))

        self.assertContains(response, "ai.example.com")
        self.assertContains(response, "Bob Baker")

    def test_it_deletes_a_summary_so_the_next_visitor_gets_a_new_one(self) -> None:
        self.assertContains(self.client.get(url(PolicySummary, "changelist")), "aaaaaaaaaaaa")

        response = self.client.post(
            url(PolicySummary, "changelist"),
            {"action": "delete_selected", "_selected_action": [self.summary.pk], "post": "yes"},
        )

        assert response.status_code == 302
        assert not PolicySummary.objects.exists()

    def test_it_keeps_the_admin_from_everyone_but_staff(self) -> None:
        for person in (self.alice, self.bob):
            response = self.new_client(person).get(url(AiRequest, "changelist"))
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("admin:login"))
