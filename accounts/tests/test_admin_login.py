"""The admin's log-in page is held to the same limits as the site's, and shares its lockout."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.base import PASSWORD

pytestmark = pytest.mark.django_db

ADMIN_LOGIN = reverse("admin:login")
LOGIN = reverse("account_login")


def from_ip(ip: str, host: str = "testserver") -> Client:
    return Client(REMOTE_ADDR=ip, headers={"Host": host})


def guess_at_admin(client: Client, email: str, password: str = "wrong password"):
    return client.post(ADMIN_LOGIN, {"username": email, "password": password, "next": "/admin/"})


def test_it_refuses_an_account_after_repeated_wrong_passwords(staff: User) -> None:
    statuses = [
        guess_at_admin(from_ip(f"198.51.100.{n + 1}"), staff.email).status_code for n in range(6)
    ]

    assert statuses == [400] * 5 + [429]
    refused = guess_at_admin(from_ip("198.51.100.50"), staff.email, PASSWORD)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "300"


def test_it_counts_admin_failures_toward_the_sites_lockout(staff: User) -> None:
    for n in range(5):
        guess_at_admin(from_ip(f"198.51.100.{n + 1}"), staff.email)

    browser = from_ip("198.51.100.60")
    response = browser.post(LOGIN, {"login": staff.email, "password": PASSWORD})

    assert response.status_code == 429
    assert "_auth_user_id" not in browser.session


def test_it_counts_the_sites_failures_at_the_admin(staff: User) -> None:
    for n in range(5):
        from_ip(f"198.51.100.{n + 1}").post(
            LOGIN, {"login": staff.email, "password": "wrong password"}
        )

    assert guess_at_admin(from_ip("198.51.100.60"), staff.email, PASSWORD).status_code == 429


def test_it_refuses_an_address_guessing_many_accounts(db: None) -> None:
    attacker = from_ip("203.0.113.9")

    statuses = [guess_at_admin(attacker, f"guess{n}@example.com").status_code for n in range(11)]

    assert statuses == [400] * 10 + [429]


def test_it_keeps_the_lockout_whatever_host_and_port_are_named(staff: User) -> None:
    statuses = [
        guess_at_admin(
            from_ip(f"198.51.100.{n + 1}", host=f"localhost:{8000 + n}"), staff.email
        ).status_code
        for n in range(6)
    ]

    assert statuses == [400] * 5 + [429]


def test_it_lets_staff_in_with_the_right_password(staff: User) -> None:
    browser = from_ip("198.51.100.1")
    guess_at_admin(browser, staff.email)

    response = guess_at_admin(browser, staff.email, PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert browser.get("/admin/").status_code == 200


def test_it_still_refuses_people_who_are_not_staff(bob: User) -> None:
    response = guess_at_admin(from_ip("198.51.100.1"), bob.email, PASSWORD)

    assert response.status_code == 400
    assert "_auth_user_id" not in response.client.session
