"""Rate limits on log-in, sign-up and password reset: 429 with a retry time, and expiry."""

import time

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse

from accounts.models import User
from accounts.tests.kit import page_text, signup_data
from tests.base import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = reverse("account_login")
SIGNUP = reverse("account_signup")
RESET = reverse("account_reset_password")


def from_ip(ip: str) -> Client:
    return Client(REMOTE_ADDR=ip)


def fail_login(client: Client, email: str):
    return client.post(LOGIN, {"login": email, "password": "wrong password"})


def assert_too_many(response, retry_after: int) -> None:
    """Assert our 429 page, with a Retry-After header and the wait spelt out."""
    assert response.status_code == 429
    assert response["Retry-After"] == str(retry_after)
    assert response.context["retry_minutes"] == -(-retry_after // 60)
    text = page_text(response).lower()
    assert "try again" in text


def test_it_refuses_an_account_after_repeated_failed_logins(alice: User) -> None:
    for attempt in range(5):
        response = fail_login(from_ip(f"198.51.100.{attempt + 1}"), alice.email)
        assert response.status_code == 400, f"attempt {attempt + 1}"

    refused = fail_login(from_ip("198.51.100.99"), alice.email)

    assert_too_many(refused, retry_after=300)
    # Even the right password waits: the limit guards the account, not the guess.
    right = from_ip("198.51.100.100")
    response = right.post(LOGIN, {"login": "ALICE@example.com", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in right.session


def test_it_keeps_other_accounts_open_while_one_is_limited(alice: User, bob: User) -> None:
    for attempt in range(6):
        fail_login(from_ip(f"198.51.100.{attempt + 1}"), alice.email)

    response = from_ip("198.51.100.50").post(LOGIN, {"login": bob.email, "password": PASSWORD})

    assert response.status_code == 302


def test_it_refuses_an_address_after_repeated_failed_logins_from_it(db: None) -> None:
    attacker = from_ip("203.0.113.9")
    for n in range(10):
        assert fail_login(attacker, f"guess{n}@example.com").status_code == 400

    refused = fail_login(attacker, "guess-again@example.com")

    assert_too_many(refused, retry_after=300)
    assert fail_login(from_ip("203.0.113.10"), "guess-again@example.com").status_code == 400


@override_settings(
    SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
    TRUSTED_PROXY_COUNT=0,
    ALLAUTH_TRUSTED_PROXY_COUNT=0,
)
def test_it_counts_failed_logins_from_the_socket_address_whatever_forwarded_for_says(
    db: None,
) -> None:
    attacker = from_ip("203.0.113.9")

    statuses = [
        attacker.post(
            LOGIN,
            {"login": f"guess{n}@example.com", "password": "wrong password"},
            headers={"X-Forwarded-For": f"198.51.100.{n}"},
        ).status_code
        for n in range(11)
    ]

    assert statuses == [400] * 10 + [429]


@override_settings(TRUSTED_PROXY_COUNT=1, ALLAUTH_TRUSTED_PROXY_COUNT=1)
def test_it_counts_failed_logins_from_the_address_our_proxy_saw(db: None) -> None:
    proxy = from_ip("10.0.0.2")

    def fail_via_proxy(n: int, seen: str) -> int:
        return proxy.post(
            LOGIN,
            {"login": f"guess{n}@example.com", "password": "wrong password"},
            headers={"X-Forwarded-For": f"198.51.100.{n}, {seen}"},
        ).status_code

    assert [fail_via_proxy(n, "203.0.113.9") for n in range(10)] == [400] * 10
    assert fail_via_proxy(10, "203.0.113.9") == 429
    assert fail_via_proxy(11, "203.0.113.10") == 400


def test_it_refuses_sign_ups_from_one_address_over_the_limit(db: None) -> None:
    browser = from_ip("192.0.2.44")
    for n in range(10):
        response = browser.post(SIGNUP, signup_data(email=f"new{n}@example.com"))
        assert response.status_code == 302, f"sign-up {n + 1}: {response.status_code}"

    refused = browser.post(SIGNUP, signup_data(email="one-too-many@example.com"))

    assert_too_many(refused, retry_after=3600)
    assert not User.objects.filter(email="one-too-many@example.com").exists()
    other = from_ip("192.0.2.45").post(SIGNUP, signup_data(email="elsewhere@example.com"))
    assert other.status_code == 302


def test_it_refuses_password_resets_for_one_address_over_the_limit(alice: User) -> None:
    for n in range(3):
        response = from_ip(f"198.51.100.{n + 1}").post(RESET, {"email": alice.email})
        assert response.status_code == 302

    refused = from_ip("198.51.100.9").post(RESET, {"email": "Alice@Example.com"})

    assert_too_many(refused, retry_after=3600)
    other = from_ip("198.51.100.9").post(RESET, {"email": "bob@example.com"})
    assert other.status_code == 302


def test_it_refuses_password_resets_from_one_address_over_the_limit(db: None) -> None:
    browser = from_ip("203.0.113.77")
    for n in range(10):
        assert browser.post(RESET, {"email": f"person{n}@example.com"}).status_code == 302

    refused = browser.post(RESET, {"email": "person-next@example.com"})

    assert_too_many(refused, retry_after=3600)


def test_it_forgets_the_counters_when_the_cache_is_emptied(alice: User) -> None:
    for n in range(6):
        fail_login(from_ip(f"198.51.100.{n + 1}"), alice.email)
    assert fail_login(from_ip("198.51.100.7"), alice.email).status_code == 429

    cache.clear()

    assert fail_login(from_ip("198.51.100.8"), alice.email).status_code == 400


@override_settings(
    ACCOUNT_RATE_LIMITS={**settings.ACCOUNT_RATE_LIMITS, "login_failed": "100/m/ip,2/2s/key"}
)
def test_it_lets_people_try_again_once_the_window_has_passed(alice: User) -> None:
    browser = from_ip("198.51.100.1")
    with time_machine.travel(time.time(), tick=False) as clock:
        fail_login(browser, alice.email)
        fail_login(browser, alice.email)
        refused = fail_login(browser, alice.email)
        assert refused.status_code == 429
        assert refused["Retry-After"] == "60"  # the longest window among the rates

        clock.shift(1.5)
        assert fail_login(browser, alice.email).status_code == 429

        clock.shift(1)
        response = browser.post(LOGIN, {"login": alice.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
