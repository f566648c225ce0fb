"""The sessions page's "last seen" stays useful while reading pages writes nothing."""

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from allauth.usersessions.models import UserSession
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from accounts.services import SESSION_ACTIVITY_SECONDS
from courses.tests.factories import CourseFactory, EnrollmentFactory

pytestmark = pytest.mark.django_db

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "SAVEPOINT", "BEGIN")


def writes_while(run: Callable[[], object]) -> list[str]:
    """Run `run` and return the SQL it sent that writes, or opens a transaction to."""
    with CaptureQueriesContext(connection) as queries:
        run()
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(WRITES)]


@pytest.fixture
def browser(client_for: Callable[..., Client], bob: User) -> Client:
    return client_for(bob, HTTP_USER_AGENT=FIREFOX, REMOTE_ADDR="203.0.113.7")


def row(browser: Client) -> UserSession:
    return UserSession.objects.get(session_key=browser.session.session_key)


def test_it_records_a_session_on_its_first_signed_in_request(browser: Client, bob: User) -> None:
    browser.get(reverse("dashboard"))

    session = row(browser)
    assert session.user == bob
    assert session.ip == "203.0.113.7"
    assert session.user_agent == FIREFOX


@pytest.mark.parametrize(
    "url",
    [
        reverse("dashboard"),
        reverse("courses:course", args=["watercolour"]),
        reverse("courses:calendar"),
        reverse("accounts:profile"),
        reverse("accounts:preferences"),
        reverse("accounts:sessions"),
        reverse("privacy:dashboard"),
        reverse("notifications:list"),
        reverse("messaging:unread"),
        reverse("csrf_token"),
    ],
)
def test_it_writes_nothing_for_an_idle_signed_in_request(
    browser: Client, bob: User, url: str
) -> None:
    EnrollmentFactory(course=CourseFactory(slug="watercolour"), student=bob)
    assert browser.get(url).status_code == 200
    browser.get(url)

    assert writes_while(lambda: browser.get(url)) == []


def test_it_updates_last_seen_once_the_interval_has_passed(browser: Client) -> None:
    with time_machine.travel(time.time(), tick=False) as clock:
        browser.get(reverse("dashboard"))
        first_seen = row(browser).last_seen_at

        clock.shift(SESSION_ACTIVITY_SECONDS - 1)
        browser.get(reverse("dashboard"))
        assert row(browser).last_seen_at == first_seen

        clock.shift(1)
        browser.get(reverse("dashboard"))
        assert row(browser).last_seen_at == first_seen + timedelta(seconds=SESSION_ACTIVITY_SECONDS)


def test_it_shows_the_last_activity_on_the_sessions_page(
    browser: Client, client_for: Callable[..., Client], bob: User
) -> None:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    later = start + timedelta(seconds=SESSION_ACTIVITY_SECONDS + 60)
    with time_machine.travel(start, tick=False) as clock:
        browser.get(reverse("dashboard"))
        clock.move_to(later)
        browser.get(reverse("notifications:list"))

        # Seen from bob's other device: this one is "Active now" to itself.
        page = client_for(bob).get(reverse("accounts:sessions")).content.decode()

    assert f'datetime="{later.isoformat()}"' in page


def test_it_records_a_new_address_at_once(browser: Client) -> None:
    browser.get(reverse("dashboard"))

    browser.get(reverse("dashboard"), REMOTE_ADDR="198.51.100.23")

    assert row(browser).ip == "198.51.100.23"


def test_it_records_a_new_browser_at_once(browser: Client) -> None:
    browser.get(reverse("dashboard"))

    browser.get(reverse("dashboard"), HTTP_USER_AGENT="Safari")

    assert row(browser).user_agent == "Safari"


def test_it_records_nothing_for_visitors(client: Client) -> None:
    client.get(reverse("home"))

    assert not UserSession.objects.exists()
