"""Survey answers are kept five years from submission, then the retention sweep deletes them."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from accounts.models import User
from onboarding import services
from onboarding.models import SurveyAnswer, SurveyResponse
from privacy import retention
from privacy.registry import registry

pytestmark = pytest.mark.django_db

ANSWERED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FIVE_YEARS = datetime(2031, 3, 2, 9, 0, tzinfo=UTC)


def answer(user: User) -> None:
    services.save_answers(
        user=user, role="student", answers={"goal": ["exam"], "subject": ["languages"]}
    )


def test_it_keeps_answers_until_five_years_have_passed(bob: User) -> None:
    with time_machine.travel(ANSWERED, tick=False):
        answer(bob)

    with time_machine.travel(FIVE_YEARS - timedelta(days=1), tick=False):
        retention.sweep_all()

    assert SurveyResponse.objects.filter(user=bob).exists()
    assert SurveyAnswer.objects.filter(response__user=bob).count() == 2


def test_it_deletes_answers_five_years_after_submission(bob: User, carol: User) -> None:
    with time_machine.travel(ANSWERED, tick=False):
        answer(bob)
    with time_machine.travel(ANSWERED + timedelta(days=400), tick=False):
        answer(carol)

    with time_machine.travel(FIVE_YEARS + timedelta(days=1), tick=False):
        retention.sweep_all()

    assert not SurveyResponse.objects.filter(user=bob).exists()
    assert not SurveyAnswer.objects.filter(response__user=bob).exists()
    assert SurveyAnswer.objects.filter(response__user=carol).count() == 2


def test_it_starts_the_five_years_again_on_a_retake(bob: User) -> None:
    with time_machine.travel(ANSWERED, tick=False):
        answer(bob)
    with time_machine.travel(ANSWERED + timedelta(days=365), tick=False):
        answer(bob)

    with time_machine.travel(FIVE_YEARS + timedelta(days=1), tick=False):
        retention.sweep_all()

    assert SurveyAnswer.objects.filter(response__user=bob).count() == 2


def test_it_says_five_years_in_the_policy(bob: User) -> None:
    for label in ("onboarding.SurveyResponse", "onboarding.SurveyAnswer"):
        entry = registry.entries[label]
        assert entry.retention.description.startswith("5 years from when you answered")
        assert entry.retention.swept
