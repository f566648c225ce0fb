"""Staff see the survey only as totals per question, with small groups withheld."""

import itertools
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from onboarding import selectors
from onboarding.models import SurveyAnswer, SurveyResponse
from tests.base import assert_constant_queries

pytestmark = pytest.mark.django_db

PAGE = reverse("admin:onboarding_surveyresponse_changelist")
_serial = itertools.count()


def respondents(n: int, role: str = "teacher", **answers: str) -> None:
    """Add `n` people who answered the `role` survey with `answers` (question=choice)."""
    users = User.objects.bulk_create(
        [
            User(email=f"respondent{i}@example.com", first_name="R", last_name=str(i))
            for i in (next(_serial) for _ in range(n))
        ]
    )
    responses = SurveyResponse.objects.bulk_create(
        [SurveyResponse(user=u, role=role) for u in users]
    )
    SurveyAnswer.objects.bulk_create(
        [
            SurveyAnswer(response=r, question=q, choice=c)
            for r in responses
            for q, c in answers.items()
        ]
    )


def bucket(role: str, question: str, label: str) -> selectors.Bucket:
    summary = next(s for s in selectors.aggregates() if s.role == role)
    chart = next(c for c in summary.charts if c.question.key == question)
    return next(b for b in chart.buckets if b.label == label)


def test_it_shows_a_bucket_of_ten_or_more(people: Any) -> None:
    respondents(12, goal="sell_course")

    assert bucket("teacher", "goal", "Sell a course").count == 12


def test_it_withholds_a_bucket_of_fewer_than_ten() -> None:
    respondents(12, goal="sell_course")
    respondents(9, goal="teach_class")

    assert bucket("teacher", "goal", "Teach a class I already have").withheld
    assert bucket("teacher", "goal", "Just looking around").withheld  # nobody: withheld too


def test_it_counts_each_role_apart() -> None:
    respondents(10, role="teacher", subject="music")
    respondents(5, role="student", subject="music")

    assert bucket("teacher", "subject", "Music").count == 10
    assert bucket("student", "subject", "Music").withheld


def test_it_shows_staff_a_chart_per_question_and_fewer_than_10(
    client_for: Any, staff: User
) -> None:
    respondents(11, goal="sell_course", budget="low")
    respondents(3, goal="explore", budget="low")

    response = client_for(staff).get(PAGE)

    assert response.status_code == 200
    page = response.content.decode()
    for text in ("What would you like to do first?", "What do you teach?", "How do you like"):
        assert text in page
    assert '<meter class="survey-bar"' in page
    assert 'value="11"' in page
    assert 'value="14"' in page  # the budget: 11 + 3 people chose "Up to 20"
    assert "fewer than 10" in page
    assert 'value="3"' not in page
    assert "respondent" not in page
    assert "style=" not in page.split('id="content"')[1]


def test_it_has_no_page_for_one_response(client_for: Any, staff: User) -> None:
    respondents(1, goal="explore")
    response = SurveyResponse.objects.get()
    browser = client_for(staff)

    for url in (
        f"/admin/onboarding/surveyresponse/{response.pk}/change/",
        f"/admin/onboarding/surveyresponse/{response.pk}/history/",
        "/admin/onboarding/surveyresponse/add/",
        "/admin/onboarding/surveyanswer/",
    ):
        assert browser.get(url).status_code == 404, url


def test_it_keeps_the_page_from_people_who_are_not_staff(client_for: Any, alice: User) -> None:
    response = client_for(alice).get(PAGE)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_it_runs_the_same_queries_for_a_thousand_respondents(client_for: Any, staff: User) -> None:
    browser: Client = client_for(staff)

    assert_constant_queries(
        browser, PAGE, lambda n: respondents(n, goal="sell_course", subject="tech"), budget=12
    )
