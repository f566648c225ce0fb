"""The welcome survey: shown right after sign-up, skippable, answered once, stored by key."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.tests.kit import link_in_last_email, signup_data
from onboarding.models import SurveyAnswer, SurveyResponse
from tests.base import StudentFactory, TeacherFactory

pytestmark = pytest.mark.django_db

WELCOME = reverse("onboarding:welcome")
DASHBOARD = reverse("dashboard")


def answers_of(user: User) -> set[tuple[str, str]]:
    return set(SurveyAnswer.objects.filter(response__user=user).values_list("question", "choice"))


def test_it_sends_a_new_account_to_the_survey_once_the_address_is_verified(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/signup/", signup_data())

    response = client.post(link_in_last_email("/accounts/confirm-email/"))

    assert response.status_code == 302
    assert response["Location"] == WELCOME
    page = client.get(WELCOME)
    assert page.status_code == 200
    assert "What do you teach?" in page.content.decode()


def test_it_lets_a_next_address_win_over_the_survey(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/signup/?next=/calendar/", signup_data())

    response = client.post(link_in_last_email("/accounts/confirm-email/"))

    assert response["Location"] != WELCOME


def test_it_asks_teachers_about_audience_and_budget(client_for: Any) -> None:
    page = client_for(TeacherFactory.create()).get(WELCOME).content.decode()

    assert "Who do you teach?" in page
    assert "What do you spend on teaching tools each month?" in page
    assert "How do you like things explained?" not in page


def test_it_asks_students_what_they_want_to_learn_and_how(client_for: Any) -> None:
    page = client_for(StudentFactory.create()).get(WELCOME).content.decode()

    assert "What would you like to learn?" in page
    assert "How do you like things explained?" in page
    assert "Who do you teach?" not in page
    assert "What do you spend" not in page


def test_it_stores_the_answers(client_for: Any) -> None:
    nora = TeacherFactory.create()

    response = client_for(nora).post(
        WELCOME,
        {"goal": "sell_course", "platforms": ["video_calls", "email_sheets"], "subject": "music"},
    )

    assert response.status_code == 302
    assert response["Location"] == DASHBOARD
    survey = SurveyResponse.objects.get(user=nora)
    assert (survey.role, survey.skipped) == ("teacher", False)
    assert answers_of(nora) == {
        ("goal", "sell_course"),
        ("platforms", "video_calls"),
        ("platforms", "email_sheets"),
        ("subject", "music"),
    }


def test_it_skips_and_does_not_ask_again(client_for: Any) -> None:
    sam = StudentFactory.create()
    browser = client_for(sam)
    assert "Set up your dashboard" in browser.get(DASHBOARD).content.decode()

    response = browser.post(WELCOME, {"skip": "1", "goal": "exam"})

    assert response["Location"] == DASHBOARD
    survey = SurveyResponse.objects.get(user=sam)
    assert survey.skipped
    assert answers_of(sam) == set()
    assert "Set up your dashboard" not in browser.get(DASHBOARD).content.decode()


def test_it_keeps_earlier_answers_when_a_retake_is_skipped(client_for: Any) -> None:
    sam = StudentFactory.create()
    browser = client_for(sam)
    browser.post(WELCOME, {"goal": "exam"})

    browser.post(WELCOME, {"skip": "1"})

    assert answers_of(sam) == {("goal", "exam")}


def test_it_replaces_the_answers_on_a_retake_and_shows_them(client_for: Any) -> None:
    sam = StudentFactory.create()
    browser = client_for(sam)
    browser.post(WELCOME, {"goal": "exam", "style": "brief"})

    page = browser.get(WELCOME)
    assert page.context["form"].initial == {"goal": "exam", "style": "brief"}
    assert page.context["retake"]
    browser.post(WELCOME, {"goal": "find_course"})

    assert answers_of(sam) == {("goal", "find_course")}


def test_it_counts_saving_nothing_as_skipping(client_for: Any) -> None:
    sam = StudentFactory.create()

    client_for(sam).post(WELCOME, {"save": "1"})

    assert SurveyResponse.objects.get(user=sam).skipped


def test_it_refuses_an_answer_that_is_not_an_option(client_for: Any) -> None:
    nora = TeacherFactory.create()

    response = client_for(nora).post(WELCOME, {"goal": "<script>", "platforms": ["zoom!"]})

    assert response.status_code == 400
    assert "Choose one of the options shown." in response.content.decode()
    assert "Choose from the options shown." in response.content.decode()
    assert not SurveyResponse.objects.filter(user=nora).exists()


def test_it_does_not_invite_accounts_older_than_a_month(client_for: Any) -> None:
    old = StudentFactory.create(date_joined=timezone.now() - timedelta(days=31))

    assert "Set up your dashboard" not in client_for(old).get(DASHBOARD).content.decode()


def test_it_sends_visitors_to_log_in(client: Client) -> None:
    response = client.get(WELCOME)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
