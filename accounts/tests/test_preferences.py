"""Preferences: time zone, language and colour scheme, with the colour-scheme cookie."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.tests.kit import page_text
from accounts.views import COLOR_SCHEME_COOKIE

pytestmark = pytest.mark.django_db

PREFERENCES = reverse("accounts:preferences")
SET_SCHEME = reverse("accounts:set_color_scheme")


def theme_of(response) -> str:
    match = re.search(r'<html[^>]*\sdata-theme="([^"]*)"', response.content.decode())
    assert match, "the page has no data-theme on <html>"
    return match.group(1)


def test_it_saves_time_zone_language_and_colour_scheme(client_for, alice: User) -> None:
    browser = client_for(alice)

    response = browser.post(
        PREFERENCES, {"timezone": "Europe/Paris", "language": "fr", "color_scheme": "dark"}
    )

    assert response.status_code == 302
    assert response["Location"] == PREFERENCES
    alice.refresh_from_db()
    assert alice.timezone == "Europe/Paris"
    assert alice.language == "fr"
    assert alice.color_scheme == "dark"
    cookie = response.cookies[COLOR_SCHEME_COOKIE]
    assert cookie.value == "dark"
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) >= 30 * 24 * 3600


def test_it_shows_the_saved_scheme_on_the_next_page(client_for, alice: User) -> None:
    browser = client_for(alice)
    browser.post(PREFERENCES, {"timezone": "UTC", "language": "en", "color_scheme": "light"})

    assert theme_of(browser.get(reverse("dashboard"))) == "light"


@pytest.mark.parametrize(
    ("field", "value"),
    [("timezone", "Mars/Olympus_Mons"), ("language", "xx"), ("color_scheme", "purple")],
)
def test_it_refuses_values_it_does_not_offer(
    client_for, alice: User, field: str, value: str
) -> None:
    data = {"timezone": "UTC", "language": "en", "color_scheme": "dark", field: value}

    response = client_for(alice).post(PREFERENCES, data)

    assert response.status_code == 400
    assert "Select a valid choice" in page_text(response)
    alice.refresh_from_db()
    assert alice.color_scheme == "system"
    assert alice.timezone == "UTC"
    assert COLOR_SCHEME_COOKIE not in response.cookies


def test_it_switches_the_scheme_for_a_visitor_with_a_cookie(client: Client) -> None:
    response = client.post(SET_SCHEME, {"color_scheme": "dark", "next": "/terms/"})

    assert response.status_code == 302
    assert response["Location"] == "/terms/"
    assert response.cookies[COLOR_SCHEME_COOKIE].value == "dark"
    assert theme_of(client.get("/terms/")) == "dark"
    assert theme_of(client.get("/")) == "dark"


def test_it_answers_htmx_switches_without_a_redirect(client: Client) -> None:
    response = client.post(SET_SCHEME, {"color_scheme": "light"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 204
    assert response.cookies[COLOR_SCHEME_COOKIE].value == "light"


def test_it_saves_the_switch_for_a_signed_in_person(client_for, bob: User) -> None:
    browser = client_for(bob)

    response = browser.post(SET_SCHEME, {"color_scheme": "dark"})

    assert response.status_code == 302
    bob.refresh_from_db()
    assert bob.color_scheme == "dark"
    assert response.cookies[COLOR_SCHEME_COOKIE].value == "dark"
    # The saved choice wins over a stale cookie.
    browser.cookies[COLOR_SCHEME_COOKIE] = "light"
    assert theme_of(browser.get(reverse("dashboard"))) == "dark"


@pytest.mark.parametrize("value", ["purple", "", "<script>", "dark" * 1000])
def test_it_refuses_an_unknown_scheme(client: Client, value: str) -> None:
    response = client.post(SET_SCHEME, {"color_scheme": value})

    assert response.status_code == 400
    assert "Unknown colour scheme" in page_text(response)
    assert COLOR_SCHEME_COOKIE not in response.cookies


def test_it_ignores_a_cookie_with_an_unknown_scheme(client: Client) -> None:
    client.cookies[COLOR_SCHEME_COOKIE] = '"><script>alert(1)</script>'

    assert theme_of(client.get("/")) == "system"


def test_it_never_sends_visitors_to_another_site(client: Client) -> None:
    response = client.post(SET_SCHEME, {"color_scheme": "dark", "next": "https://evil.example/"})

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_it_refuses_a_get(client: Client) -> None:
    assert client.get(SET_SCHEME, {"color_scheme": "dark"}).status_code == 405
