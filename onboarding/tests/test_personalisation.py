"""Answers set the defaults: the dashboard's first view, course suggestions, the AI's tone."""

from typing import Any

import pytest
from django.urls import reverse

from accounts.models import User
from courses.models import Course
from courses.tests.factories import CourseFactory
from onboarding import selectors, services
from tests.base import StudentFactory, TeacherFactory

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("dashboard")
NEW_COURSE = reverse("courses:teach_course_new")


def teacher_who_answered(**answers: list[str]) -> User:
    nora = TeacherFactory.create()
    services.save_answers(user=nora, role="teacher", answers=answers)
    return User.objects.get(pk=nora.pk)


def student_who_answered(**answers: list[str]) -> User:
    sam = StudentFactory.create()
    services.save_answers(user=sam, role="student", answers=answers)
    return User.objects.get(pk=sam.pk)


def test_it_suggests_course_starters_on_a_new_teachers_dashboard(client_for: Any) -> None:
    nora = teacher_who_answered(goal=["sell_course"], subject=["languages"])

    page = client_for(nora).get(DASHBOARD).content.decode()

    assert "Suggested for you" in page
    assert "Conversation practice" in page  # for the subject
    assert "Paid live cohort" in page  # for the goal
    assert f"{NEW_COURSE}?template=language-conversation" in page
    assert "Set up your dashboard" not in page


def test_it_suggests_nothing_to_a_teacher_who_skipped(client_for: Any) -> None:
    nora = TeacherFactory.create()
    services.skip(user=nora, role="teacher")

    page = client_for(nora).get(DASHBOARD).content.decode()

    assert "Suggested for you" not in page
    assert "Create your first course" in page


def test_it_stops_suggesting_once_the_teacher_has_a_course(client_for: Any) -> None:
    nora = teacher_who_answered(goal=["sell_course"])
    CourseFactory.create(teacher=nora)

    assert "Suggested for you" not in client_for(nora).get(DASHBOARD).content.decode()


def test_it_shows_open_courses_first_to_a_student_looking_for_one(client_for: Any) -> None:
    CourseFactory.create(title="Watercolour for beginners")
    sam = student_who_answered(goal=["find_course"])

    page = client_for(sam).get(DASHBOARD).content.decode()

    assert "Find a course" in page
    assert "Watercolour for beginners" in page
    assert page.index("Find a course") < page.index("Your courses")


def test_it_shows_an_invited_student_their_courses_as_usual(client_for: Any) -> None:
    CourseFactory.create(title="Watercolour for beginners")
    sam = student_who_answered(goal=["invited"])

    page = client_for(sam).get(DASHBOARD).content.decode()

    assert "Find a course" not in page
    assert "Watercolour for beginners" not in page


def test_it_fills_the_new_course_form_from_a_starter(client_for: Any) -> None:
    nora = teacher_who_answered(goal=["teach_class"])

    response = client_for(nora).get(NEW_COURSE, {"template": "exam-prep"})

    form = response.context["form"]
    assert form.initial["title"] == "Exam preparation course"
    assert form.initial["schedule"] == "Weekly, 8 sessions of 60 minutes"
    assert form.initial["capacity"] == 30
    assert "Filled in from the “Exam preparation” suggestion" in response.content.decode()


def test_it_lists_the_starters_on_the_new_course_page(client_for: Any) -> None:
    nora = teacher_who_answered(goal=["teach_class"], subject=["music"])

    page = client_for(nora).get(NEW_COURSE).content.decode()

    assert "Group music lessons" in page
    assert "Ongoing weekly class" in page


def test_it_ignores_an_unknown_starter(client_for: Any) -> None:
    nora = TeacherFactory.create()

    response = client_for(nora).get(NEW_COURSE, {"template": "<nope>"})

    assert response.status_code == 200
    assert not response.context["form"].initial.get("title")


def test_it_creates_the_course_only_when_the_teacher_saves(client_for: Any) -> None:
    nora = teacher_who_answered(goal=["sell_course"])
    browser = client_for(nora)

    browser.get(NEW_COURSE, {"template": "live-cohort"})

    assert not Course.objects.filter(teacher=nora).exists()


@pytest.mark.parametrize(
    ("answers", "tone"),
    [
        ({"style": ["simple"]}, "Explain simply, with everyday examples and no jargon."),
        ({"style": ["brief"]}, "Keep answers short and to the point."),
        ({"goal": ["exam"]}, ""),
    ],
)
def test_it_gives_the_ai_a_students_preferred_tone(answers: dict, tone: str) -> None:
    assert selectors.ai_tone(student_who_answered(**answers)) == tone


def test_it_gives_the_ai_a_tone_for_a_teachers_audience() -> None:
    nora = teacher_who_answered(audience=["children"])

    assert selectors.ai_tone(nora).startswith("Write for children")


def test_it_has_no_tone_for_someone_never_asked(bob: User) -> None:
    assert selectors.ai_tone(bob) == ""
    assert selectors.preferences_for(bob) == selectors.Preferences(role="student")


def test_it_drops_answers_given_in_another_role() -> None:
    sam = student_who_answered(goal=["find_course"], style=["simple"])
    sam.is_teacher = True
    sam.save(update_fields=["is_teacher"])

    prefs = selectors.preferences_for(User.objects.get(pk=sam.pk))

    assert prefs.asked
    assert not prefs.answered
    assert prefs.tone == ""
