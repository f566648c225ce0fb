"""AI units: the maths, the log, the monthly allowance from the plan, refusal and reset."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.test import override_settings
from django.urls import reverse

from ai import client, services
from ai.models import AiRequest, AiUsageMonth
from billing.tests.plan_kit import PlanTestCase

OK = AiRequest.Outcome.OK


def answer(prompt: int, completion: int) -> client.Completion:
    return client.Completion("text", prompt, completion, "small", 120)


class UnitsTests(PlanTestCase):
    def test_it_counts_a_unit_per_thousand_tokens_rounded_up(self) -> None:
        assert services.units_for(0, 0) == 0
        assert services.units_for(1, 0) == 1
        assert services.units_for(600, 400) == 1
        assert services.units_for(600, 401) == 2

    def test_it_logs_an_answer_and_counts_its_units_against_the_teacher(self) -> None:
        logged = services.record(
            action="assistant", outcome=OK, user=self.bob, teacher=self.alice,
            context_item_ids=[3, 7], completion=answer(1200, 300),
        )  # fmt: skip

        assert (logged.units, logged.context_item_ids, logged.model) == (2, [3, 7], "small")
        assert services.used_this_month(self.alice) == 2
        assert services.used_this_month(self.bob) == 0

    def test_a_failed_request_costs_no_units(self) -> None:
        for outcome in ("endpoint_error", "timeout", "refused_limit", "refused_consent"):
            services.record(
                action="recap", outcome=outcome, user=self.alice, teacher=self.alice,
                completion=answer(5000, 0), error=client.BUSY,
            )  # fmt: skip

        assert services.used_this_month(self.alice) == 0
        assert set(AiRequest.objects.values_list("units", flat=True)) == {0}

    def test_the_allowance_is_the_plans(self) -> None:
        assert services.allowance(self.alice) == 50  # Free

    def test_it_refuses_when_the_months_units_are_used_up(self) -> None:
        services.record(
            action="recap", outcome=OK, teacher=self.alice, completion=answer(49_000, 0)
        )
        services.check_allowance(self.alice)
        services.record(action="recap", outcome=OK, teacher=self.alice, completion=answer(1000, 0))

        with pytest.raises(services.OutOfUnitsError, match=r"used up \(50 of 50\)"):
            services.check_allowance(self.alice)

    def test_a_new_month_starts_from_zero(self) -> None:
        with time_machine.travel(datetime(2026, 3, 31, 23, 0, tzinfo=UTC), tick=False):
            services.record(
                action="recap", outcome=OK, teacher=self.alice, completion=answer(50_000, 0)
            )
            assert services.used_this_month(self.alice) == 50
        with time_machine.travel(datetime(2026, 4, 1, 0, 1, tzinfo=UTC), tick=False):
            assert services.used_this_month(self.alice) == 0
            services.check_allowance(self.alice)
            services.record(
                action="recap", outcome=OK, teacher=self.alice, completion=answer(10, 0)
            )

        months = dict(AiUsageMonth.objects.values_list("month", "units"))
        assert {m.isoformat(): u for m, u in months.items()} == {"2026-03-01": 50, "2026-04-01": 1}

    @override_settings(AI_BASE_URL="http://127.0.0.1:9/v1", AI_MODEL="local-model")
    def test_the_plan_page_shows_the_units_used(self) -> None:
        services.record(action="recap", outcome=OK, teacher=self.alice, completion=answer(3500, 0))

        html = self.login(self.alice).get(reverse("billing:plan")).content.decode()

        start = html.index('id="usage-ai"')
        usage = " ".join(html[start : html.index("</li>", start)].split())
        assert "4 of 50" in usage, usage
        assert "Resets on the first of each month" in usage


class PlanPageWithoutAiTests(PlanTestCase):
    def test_the_plan_page_says_ai_is_off_on_this_server(self) -> None:
        html = self.login(self.alice).get(reverse("billing:plan")).content.decode()

        start = html.index('id="usage-ai"')
        usage = " ".join(html[start : html.index("</li>", start)].split())
        assert "AI features aren&#x27;t available on this server yet" in usage, usage
