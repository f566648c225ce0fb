"""Signing up with email and password: who may, what is stored, and verifying the address."""

from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse

from accounts.models import User
from accounts.tests.kit import link_in_last_email, page_text, signup_data
from privacy import documents
from privacy.models import PolicyAcceptance
from tests.base import PASSWORD

pytestmark = pytest.mark.django_db

SIGNUP = "/accounts/signup/"


def sign_up(client: Client, **overrides: object):
    return client.post(SIGNUP, signup_data(**overrides))


def sign_up_and_send(client: Client, capture: Any, **overrides: object):
    """Sign up, then send what the outbox queued, as it does once the request commits."""
    with capture(execute=True):
        return sign_up(client, **overrides)


def test_it_shows_the_signup_form(client: Client) -> None:
    response = client.get(SIGNUP)

    assert response.status_code == 200
    form = response.context["form"]
    for name in ("first_name", "last_name", "email", "password1", "role", "age_band"):
        assert name in form.fields
    for doc in documents.documents().values():
        assert f"accept_{doc.slug}" in form.fields


def test_it_signs_up_a_teacher_with_names_roles_and_every_policy(client: Client) -> None:
    response = sign_up(client)

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get(email="nora@example.com")
    assert (user.first_name, user.last_name) == ("Nora", "Newman")
    assert user.is_teacher
    assert not user.is_student
    assert user.organisation_name == "Nora's Music School"
    assert user.country == "US"
    assert user.check_password(PASSWORD)
    accepted = dict(PolicyAcceptance.objects.filter(user=user).values_list("document", "sha256"))
    assert accepted == {doc.slug: doc.sha256 for doc in documents.documents().values()}
    assert all(len(sha) == 64 for sha in accepted.values())


def test_it_signs_up_a_student_without_the_instructor_agreement(client: Client) -> None:
    response = sign_up(
        client,
        email="sam@example.com",
        role="student",
        organisation_name="Ignored For Students",
        **{"accept_instructor-agreement": None},
    )

    assert response.status_code == 302
    user = User.objects.get(email="sam@example.com")
    assert user.is_student
    assert not user.is_teacher
    assert user.organisation_name == ""
    accepted = set(PolicyAcceptance.objects.filter(user=user).values_list("document", flat=True))
    assert accepted == {"terms", "privacy", "community-guidelines"}


def test_it_gives_both_roles_to_someone_who_teaches_and_learns(client: Client) -> None:
    sign_up(client, role="both")

    user = User.objects.get(email="nora@example.com")
    assert user.is_teacher
    assert user.is_student


def test_it_sends_a_verification_email_and_refuses_login_until_verified(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    sign_up_and_send(client, django_capture_on_commit_callbacks)

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["nora@example.com"]
    assert "/accounts/confirm-email/" in mail.outbox[0].body
    assert not EmailAddress.objects.get(email="nora@example.com").verified

    browser = Client()
    response = browser.post(
        reverse("account_login"), {"login": "nora@example.com", "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in browser.session
    assert browser.get(reverse("dashboard")).status_code == 302


def test_it_verifies_the_address_and_logs_in_through_the_emailed_link(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    sign_up_and_send(client, django_capture_on_commit_callbacks)
    link = link_in_last_email("/accounts/confirm-email/")

    page = client.get(link)
    assert page.status_code == 200
    assert not EmailAddress.objects.get(email="nora@example.com").verified

    response = client.post(link)

    assert response.status_code == 302
    assert EmailAddress.objects.get(email="nora@example.com").verified
    user = User.objects.get(email="nora@example.com")
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.get(reverse("dashboard")).status_code == 200


def test_it_lets_a_verified_person_log_in_from_another_browser(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    sign_up_and_send(client, django_capture_on_commit_callbacks)
    client.post(link_in_last_email("/accounts/confirm-email/"))

    browser = Client()
    response = browser.post(
        reverse("account_login"), {"login": "nora@example.com", "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")


def test_it_refuses_anyone_under_13(client: Client) -> None:
    response = sign_up(client, age_band="under13")

    assert response.status_code == 400
    assert "at least 13" in page_text(response)
    assert not User.objects.filter(email="nora@example.com").exists()


def test_it_refuses_13_to_15_year_olds_in_the_eea(client: Client) -> None:
    response = sign_up(client, age_band="13to15", country="FR")

    assert response.status_code == 400
    assert "at least 16" in page_text(response)
    assert not User.objects.exists()


def test_it_accepts_13_to_15_year_olds_outside_the_eea(client: Client) -> None:
    response = sign_up(client, age_band="13to15", country="US", role="student")

    assert response.status_code == 302
    assert User.objects.filter(email="nora@example.com").exists()


@pytest.mark.parametrize(
    "missing", ["accept_terms", "accept_privacy", "accept_community-guidelines"]
)
def test_it_refuses_a_signup_missing_a_required_policy(client: Client, missing: str) -> None:
    response = sign_up(client, **{missing: None})

    assert response.status_code == 400
    assert missing in response.context["form"].errors
    assert "Please accept the" in page_text(response)
    assert not User.objects.exists()


def test_it_refuses_a_teacher_who_did_not_accept_the_instructor_agreement(client: Client) -> None:
    response = sign_up(client, **{"accept_instructor-agreement": None})

    assert response.status_code == 400
    assert "Please accept the Instructor Agreement" in page_text(response)
    assert not User.objects.exists()


def test_it_keeps_one_account_per_address_whatever_its_case(
    client: Client, alice: User, django_capture_on_commit_callbacks: Any
) -> None:
    mail.outbox.clear()

    response = sign_up_and_send(
        client, django_capture_on_commit_callbacks, email="Alice@Example.com"
    )

    # allauth does not reveal that the address is taken; it tells its owner by email.
    assert response.status_code in (302, 400)
    assert User.objects.filter(email__iexact="alice@example.com").count() == 1
    assert User.objects.get(email__iexact="alice@example.com").first_name == "Alice"
    assert EmailAddress.objects.filter(email__iexact="alice@example.com").count() == 1
    assert all(m.to == ["alice@example.com"] for m in mail.outbox)


def test_it_stores_addresses_in_lower_case(client: Client) -> None:
    sign_up(client, email="Nora.Newman@Example.COM")

    assert User.objects.get().email == "nora.newman@example.com"
    assert EmailAddress.objects.get().email == "nora.newman@example.com"


def test_it_refuses_a_disposable_address_with_a_clear_message(client: Client) -> None:
    response = sign_up(client, email="someone@mailinator.com")

    assert response.status_code == 400
    assert "throwaway-mail services can't be used" in page_text(response)
    assert not User.objects.exists()
    assert not EmailAddress.objects.exists()
    assert not PolicyAcceptance.objects.exists()
    assert mail.outbox == []


def test_it_refuses_a_subdomain_of_a_disposable_domain(client: Client) -> None:
    response = sign_up(client, email="someone@eu.mailinator.com")

    assert response.status_code == 400
    assert not User.objects.exists()


@override_settings(DISPOSABLE_EMAIL_ALLOWLIST=["mailinator.com"])
def test_it_accepts_a_disposable_domain_on_the_allow_list(client: Client) -> None:
    response = sign_up(client, email="someone@mailinator.com")

    assert response.status_code == 302
    assert User.objects.filter(email="someone@mailinator.com").exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_it_refuses_signup_from_a_blocked_country(client: Client, method: str) -> None:
    before = User.objects.count()

    response = getattr(client, method)(SIGNUP, signup_data(), HTTP_CF_IPCOUNTRY="RU")

    assert response.status_code == 403
    assert "RU" in page_text(response) or "Russia" in page_text(response)
    assert User.objects.count() == before
    assert not EmailAddress.objects.exists()
    assert not PolicyAcceptance.objects.exists()
    assert mail.outbox == []


@override_settings(COUNTRY_HEADER="X-Edge-Country")
def test_it_reads_the_country_from_the_configured_header(client: Client) -> None:
    # The default header is no longer trusted...
    allowed = client.get(SIGNUP, HTTP_CF_IPCOUNTRY="CN")
    assert allowed.status_code == 200

    # ...the configured one is.
    response = client.post(SIGNUP, signup_data(), HTTP_X_EDGE_COUNTRY="cn")

    assert response.status_code == 403
    assert not User.objects.exists()


@override_settings(BLOCKED_SIGNUP_COUNTRIES=["FR"])
def test_it_uses_the_configured_list_of_blocked_countries(client: Client) -> None:
    assert client.get(SIGNUP, HTTP_CF_IPCOUNTRY="RU").status_code == 200
    assert client.get(SIGNUP, HTTP_CF_IPCOUNTRY="FR").status_code == 403


def test_it_lets_signup_through_from_an_allowed_country(client: Client) -> None:
    response = client.post(SIGNUP, signup_data(), HTTP_CF_IPCOUNTRY="US")

    assert response.status_code == 302
    assert User.objects.filter(email="nora@example.com").exists()
