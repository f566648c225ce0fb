"""The sessions page: see where you are signed in and sign those places out."""

import pytest
from allauth.usersessions.models import UserSession
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.tests.kit import page_text
from tests.base import PASSWORD, fresh_rate_window

pytestmark = pytest.mark.django_db

SESSIONS = reverse("accounts:sessions")
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
EDGE = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0"
)


def signed_in(user: User, user_agent: str, ip: str) -> tuple[Client, UserSession]:
    """Log `user` in from a browser with this user agent and address; return it and its row."""
    browser = Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip)
    response = browser.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert browser.get(reverse("dashboard")).status_code == 200  # the row is written here
    return browser, UserSession.objects.get(session_key=browser.session.session_key)


def is_signed_in(browser: Client) -> bool:
    return browser.get(reverse("dashboard")).status_code == 200


def test_it_lists_the_persons_sessions_with_browser_and_truncated_address(
    alice: User, bob: User
) -> None:
    laptop, _ = signed_in(alice, FIREFOX, "203.0.113.7")
    signed_in(alice, SAFARI, "198.51.100.23")
    signed_in(bob, EDGE, "192.0.2.200")

    response = laptop.get(SESSIONS)

    assert response.status_code == 200
    text = page_text(response)
    assert "Firefox 128 on Linux" in text
    assert "Mobile Safari 17 on iOS" in text or "Safari 17 on iOS" in text
    assert "203.0.113.x" in text
    assert "198.51.100.x" in text
    assert "203.0.113.7" not in text
    assert "198.51.100.23" not in text
    # Never anyone else's.
    assert "Edge" not in text
    assert "192.0.2." not in text
    assert {s.user_id for s in response.context["sessions"]} == {alice.pk}
    assert len(response.context["sessions"]) == 2


def test_it_marks_the_current_session(alice: User) -> None:
    laptop, mine = signed_in(alice, FIREFOX, "203.0.113.7")
    signed_in(alice, SAFARI, "198.51.100.23")

    response = laptop.get(SESSIONS)

    assert response.context["current_key"] == mine.session_key


def test_it_ends_one_session_and_signs_that_browser_out(alice: User) -> None:
    laptop, _ = signed_in(alice, FIREFOX, "203.0.113.7")
    phone, phone_session = signed_in(alice, SAFARI, "198.51.100.23")

    response = laptop.post(reverse("accounts:end_session", args=[phone_session.pk]))

    assert response.status_code == 302
    assert response["Location"] == SESSIONS
    assert not UserSession.objects.filter(pk=phone_session.pk).exists()
    assert not is_signed_in(phone)
    assert is_signed_in(laptop)


def test_it_does_not_let_anyone_end_someone_elses_session(alice: User, bob: User) -> None:
    laptop, _ = signed_in(alice, FIREFOX, "203.0.113.7")
    bobs_browser, bobs_session = signed_in(bob, EDGE, "192.0.2.200")

    response = laptop.post(reverse("accounts:end_session", args=[bobs_session.pk]))

    assert response.status_code == 404
    assert UserSession.objects.filter(pk=bobs_session.pk).exists()
    assert is_signed_in(bobs_browser)


def test_it_answers_404_for_a_session_that_does_not_exist(alice: User) -> None:
    laptop, _ = signed_in(alice, FIREFOX, "203.0.113.7")

    response = laptop.post(reverse("accounts:end_session", args=[999_999]))

    assert response.status_code == 404


def test_it_ends_every_other_session_and_keeps_this_one(alice: User, bob: User) -> None:
    laptop, mine = signed_in(alice, FIREFOX, "203.0.113.7")
    phone, _ = signed_in(alice, SAFARI, "198.51.100.23")
    tablet, _ = signed_in(alice, EDGE, "198.51.100.24")
    bobs_browser, _ = signed_in(bob, EDGE, "192.0.2.200")

    response = laptop.post(reverse("accounts:end_other_sessions"))

    assert response.status_code == 302
    assert response["Location"] == SESSIONS
    assert is_signed_in(laptop)
    assert not is_signed_in(phone)
    assert not is_signed_in(tablet)
    assert is_signed_in(bobs_browser)
    assert list(UserSession.objects.filter(user=alice).values_list("pk", flat=True)) == [mine.pk]


def test_it_does_not_end_sessions_on_a_get(alice: User) -> None:
    laptop, _ = signed_in(alice, FIREFOX, "203.0.113.7")
    phone, phone_session = signed_in(alice, SAFARI, "198.51.100.23")

    assert laptop.get(reverse("accounts:end_session", args=[phone_session.pk])).status_code == 405
    assert laptop.get(reverse("accounts:end_other_sessions")).status_code == 405
    assert is_signed_in(phone)


def test_it_sends_anonymous_visitors_to_log_in(client: Client) -> None:
    response = client.get(SESSIONS)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={SESSIONS}"


def test_it_limits_how_fast_sessions_can_be_ended(alice: User) -> None:
    laptop, _ = signed_in(alice, FIREFOX, "203.0.113.7")
    with fresh_rate_window(60):
        for _ in range(30):
            assert laptop.post(reverse("accounts:end_session", args=[999_999])).status_code == 404

        response = laptop.post(reverse("accounts:end_session", args=[999_999]))

    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
