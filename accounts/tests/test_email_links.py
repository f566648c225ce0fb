"""Links in allauth's emails point at SITE_URL, whatever host and port the request used."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse

from accounts.models import User
from accounts.tests.kit import links_in_last_email, signup_data

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_public_address")]

SITE = "https://lectern.example.com"
# An allowed host name, on a port nobody published: links must not follow it.
OTHER_HOST = "localhost:9999"


@pytest.fixture
def _public_address() -> Iterator[None]:
    with override_settings(SITE_URL=SITE):
        yield


@pytest.fixture
def post(django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """POST, then send what the outbox queued, as it does once the request commits."""

    def send(client: Client, url: str, data: dict[str, Any]) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data)

    return send


def browser() -> Client:
    return Client(headers={"Host": OTHER_HOST})


def sent_text() -> str:
    message = mail.outbox[-1]
    bodies = [str(message.body)] + [str(alt[0]) for alt in getattr(message, "alternatives", [])]
    return "\n".join(bodies)


def assert_links_on_site(to: str, path_part: str) -> None:
    links = links_in_last_email(to)
    assert any(link.startswith(f"{SITE}/") and path_part in link for link in links), links
    assert not [link for link in links if not link.startswith(f"{SITE}/")], links
    text = sent_text()
    assert "localhost" not in text
    assert "9999" not in text


def test_it_links_the_password_reset_to_the_site(post: Callable[..., Any], alice: User) -> None:
    post(browser(), reverse("account_reset_password"), {"email": alice.email})

    assert_links_on_site(alice.email, "/accounts/password/reset/key/")


def test_it_links_the_sign_up_confirmation_to_the_site(post: Callable[..., Any]) -> None:
    response = post(browser(), reverse("account_signup"), signup_data())
    assert response.status_code == 302

    assert_links_on_site("nora@example.com", "/accounts/confirm-email/")


def test_it_links_an_unknown_address_to_sign_up_on_the_site(post: Callable[..., Any]) -> None:
    post(browser(), reverse("account_reset_password"), {"email": "stranger@example.com"})

    assert_links_on_site("stranger@example.com", "/accounts/signup/")


def test_it_links_a_second_sign_up_with_a_known_address_to_the_site(
    post: Callable[..., Any], alice: User
) -> None:
    post(browser(), reverse("account_signup"), signup_data(email=alice.email))

    assert_links_on_site(alice.email, "/accounts/password/reset/")


def test_it_names_the_site_not_the_requested_host(
    post: Callable[..., Any], client_for: Callable[..., Client], alice: User
) -> None:
    client = client_for(alice, headers={"Host": OTHER_HOST})
    post(client, reverse("account_email"), {"action_add": "", "email": "alice.new@example.com"})

    assert mail.outbox, "no email was sent"
    assert "lectern.example.com" in sent_text()
    assert_links_on_site("alice.new@example.com", "/accounts/confirm-email/")
