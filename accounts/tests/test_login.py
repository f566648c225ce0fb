"""Logging in and out, resetting and changing the password, changing the email address."""

from typing import Any

import pytest
from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.tests.kit import NEW_PASSWORD, link_in_last_email, page_text
from tests.base import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("account_login")


def log_in(client: Client, login: str, password: str = PASSWORD):
    return client.post(LOGIN, {"login": login, "password": password})


def test_it_logs_in_by_email_whatever_its_case(client: Client, alice: User) -> None:
    response = log_in(client, "  ALICE@Example.COM ")

    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_it_refuses_a_wrong_password_with_a_message(client: Client, alice: User) -> None:
    response = log_in(client, "alice@example.com", "not the password")

    assert response.status_code == 400
    assert "_auth_user_id" not in client.session
    assert "not correct" in page_text(response) or "incorrect" in page_text(response).lower()


def test_it_refuses_an_inactive_account(client: Client) -> None:
    UserFactory(email="gone@example.com", is_active=False)

    response = log_in(client, "gone@example.com")

    assert "_auth_user_id" not in client.session
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert response["Location"] == reverse("account_inactive")


def test_it_takes_people_back_where_they_were_going(client: Client, alice: User) -> None:
    response = client.post(
        f"{LOGIN}?next=/settings/profile/", {"login": alice.email, "password": PASSWORD}
    )

    assert response["Location"] == "/settings/profile/"


def test_it_ignores_a_next_address_on_another_site(client: Client, alice: User) -> None:
    response = client.post(
        LOGIN, {"login": alice.email, "password": PASSWORD, "next": "https://evil.example/"}
    )

    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


def test_it_logs_out(client: Client, alice: User) -> None:
    log_in(client, alice.email)
    assert client.get(reverse("dashboard")).status_code == 200

    response = client.post(reverse("account_logout"))

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    after = client.get(reverse("dashboard"))
    assert after.status_code == 302
    assert after["Location"].startswith(LOGIN)


def test_it_resets_a_forgotten_password_through_the_emailed_link(
    client: Client, alice: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_reset_password"), {"email": "Alice@example.com"})

    assert response.status_code == 302
    assert response["Location"] == reverse("account_reset_password_done")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["alice@example.com"]
    link = link_in_last_email("/accounts/password/reset/key/")

    # allauth moves the key out of the address into the session, then shows the form.
    landing = client.get(link, follow=True)
    assert landing.status_code == 200
    form_url = landing.redirect_chain[-1][0] if landing.redirect_chain else link
    done = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert done.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    assert log_in(Client(), alice.email, PASSWORD).status_code == 400
    assert log_in(Client(), alice.email, NEW_PASSWORD).status_code == 302


def test_it_does_not_reveal_whether_an_address_has_an_account(client: Client) -> None:
    response = client.post(reverse("account_reset_password"), {"email": "nobody@example.com"})

    assert response.status_code == 302
    assert response["Location"] == reverse("account_reset_password_done")
    assert User.objects.filter(email="nobody@example.com").count() == 0


def test_it_refuses_a_used_or_forged_reset_link(client: Client, alice: User) -> None:
    response = client.get(
        reverse("account_reset_password_from_key", kwargs={"uidb36": "1", "key": "forged"}),
        follow=True,
    )

    assert response.status_code == 200
    assert response.context["token_fail"]
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_it_ends_other_sessions_when_the_password_changes(alice: User) -> None:
    here, elsewhere = Client(), Client(HTTP_USER_AGENT="Other browser")
    for browser in (here, elsewhere):
        log_in(browser, alice.email)
        assert browser.get(reverse("dashboard")).status_code == 200  # records the session
    elsewhere_key = elsewhere.session.session_key
    assert UserSession.objects.filter(user=alice).count() == 2

    response = here.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert here.get(reverse("dashboard")).status_code == 200
    gone = elsewhere.get(reverse("dashboard"))
    assert gone.status_code == 302
    assert gone["Location"].startswith(LOGIN)
    assert not UserSession.objects.filter(session_key=elsewhere_key).exists()
    assert UserSession.objects.filter(user=alice).count() == 1


def test_it_refuses_a_password_change_without_the_current_password(
    client: Client, alice: User
) -> None:
    log_in(client, alice.email)

    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": "wrong", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 400
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_it_changes_the_email_address_once_the_new_one_is_verified(
    client: Client, alice: User, django_capture_on_commit_callbacks: Any
) -> None:
    log_in(client, alice.email)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("account_email"), {"email": "alice.new@example.com", "action_add": ""}
        )

    assert response.status_code == 302
    new = EmailAddress.objects.get(email="alice.new@example.com")
    assert new.user == alice
    assert not new.verified
    assert [m.to for m in mail.outbox] == [["alice.new@example.com"]]
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"  # not before it is verified

    client.post(link_in_last_email("/accounts/confirm-email/", to="alice.new@example.com"))

    alice.refresh_from_db()
    assert alice.email == "alice.new@example.com"
    assert EmailAddress.objects.get(email="alice.new@example.com").verified
    assert log_in(Client(), "alice.new@example.com").status_code == 302


def test_it_refuses_to_change_to_a_disposable_address(client: Client, alice: User) -> None:
    log_in(client, alice.email)

    response = client.post(
        reverse("account_email"), {"email": "alice@mailinator.com", "action_add": ""}
    )

    assert response.status_code == 400
    assert "throwaway-mail" in page_text(response)
    assert not EmailAddress.objects.filter(email="alice@mailinator.com").exists()
