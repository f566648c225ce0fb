"""Editing the profile: names, title, organisation and roles."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.tests.kit import page_text

pytestmark = pytest.mark.django_db

PROFILE = reverse("accounts:profile")


def profile_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "first_name": "Alicia",
        "last_name": "Archer-Smith",
        "title": "Dr.",
        "organisation_name": "Archer Academy",
        "is_teacher": "on",
        "is_student": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_it_shows_the_profile_form_filled_in(client_for, alice: User) -> None:
    response = client_for(alice).get(PROFILE)

    assert response.status_code == 200
    text = page_text(response)
    assert 'value="Alice"' in text
    assert "Alice's Studio" in text


def test_it_saves_names_title_organisation_and_roles(client_for, alice: User) -> None:
    response = client_for(alice).post(PROFILE, profile_data())

    assert response.status_code == 302
    assert response["Location"] == PROFILE
    alice.refresh_from_db()
    assert alice.first_name == "Alicia"
    assert alice.last_name == "Archer-Smith"
    assert alice.title == "Dr."
    assert alice.organisation_name == "Archer Academy"
    assert alice.is_teacher
    assert alice.is_student
    assert alice.get_full_name() == "Dr. Alicia Archer-Smith"


def test_it_confirms_the_save(client_for, alice: User) -> None:
    response = client_for(alice).post(PROFILE, profile_data(), follow=True)

    assert "Your profile is saved." in page_text(response)


def test_it_lets_a_teacher_become_a_student_only(client_for, alice: User) -> None:
    client_for(alice).post(PROFILE, profile_data(is_teacher=None))

    alice.refresh_from_db()
    assert not alice.is_teacher
    assert alice.is_student


def test_it_requires_at_least_one_role(client_for, alice: User) -> None:
    response = client_for(alice).post(PROFILE, profile_data(is_teacher=None, is_student=None))

    assert response.status_code == 400
    assert "Choose at least one: teaching or learning." in page_text(response)
    alice.refresh_from_db()
    assert alice.is_teacher
    assert alice.first_name == "Alice"


def test_it_requires_a_first_and_last_name(client_for, alice: User) -> None:
    response = client_for(alice).post(PROFILE, profile_data(first_name="", last_name=None))

    assert response.status_code == 400
    assert set(response.context["form"].errors) >= {"first_name", "last_name"}
    alice.refresh_from_db()
    assert alice.first_name == "Alice"


def test_it_refuses_10_kilobyte_names_with_a_clear_message(client_for, alice: User) -> None:
    response = client_for(alice).post(
        PROFILE, profile_data(first_name="A" * 10_240, organisation_name="O" * 10_240)
    )

    assert response.status_code == 400
    text = page_text(response)
    assert "at most 150 characters" in text
    assert "at most 200 characters" in text
    alice.refresh_from_db()
    assert alice.first_name == "Alice"
    assert alice.organisation_name == "Alice's Studio"


def test_it_does_not_let_people_make_themselves_staff(client_for, bob: User) -> None:
    client_for(bob).post(PROFILE, profile_data(is_staff="on", is_superuser="on", email="x@y.z"))

    bob.refresh_from_db()
    assert not bob.is_staff
    assert not bob.is_superuser
    assert bob.email == "bob@example.com"


def test_it_sends_anonymous_visitors_to_log_in(client: Client) -> None:
    response = client.post(PROFILE, profile_data())

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
