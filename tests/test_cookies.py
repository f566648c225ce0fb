"""Every cookie Lectern sets carries Secure, HttpOnly and SameSite=Lax in production.

The test settings keep the production defaults (DEBUG off, secure cookies); the
flows below are the ones that set cookies: signing in (session, CSRF, the
messages cookie), choosing a colour scheme, landing on a storefront page from a
campaign (the analytics cookies) and signing out. Every Set-Cookie they send is
checked, and every cookie the cookies page declares must have been seen, so a
new cookie can't slip past.

No cookie is readable by script: the CSRF token reaches pages in their forms, in
htmx's headers and from /csrf-token/ for cached pages, never from the cookie.
"""

import re
from http.cookies import Morsel
from typing import Any

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.test import Client
from django.urls import reverse

from accounts.models import User
from analytics import counters, visits
from courses.tests.factories import CourseFactory
from privacy import cookies
from tests.base import PASSWORD, LecternTestCase


def _is_deletion(morsel: Morsel[str]) -> bool:
    """Say whether the cookie only tells the browser to forget one (empty, already expired).

    Django's delete_cookie() sends such a cookie without Secure or HttpOnly; it
    carries nothing to protect.
    """
    return morsel.value == "" and (morsel["max-age"] == 0 or "1970" in str(morsel["expires"] or ""))


class CookieFlagsTest(LecternTestCase):
    def setUp(self) -> None:
        counters.take_local()
        self.seen: dict[str, list[Morsel[str]]] = {}
        self.client = Client()

    def tearDown(self) -> None:
        counters.take_local()

    def request(self, method: str, url: str, data: Any = None, **extra: Any) -> Any:
        """Send the request over https, as production does, and keep every cookie it sets."""
        send = self.client.post if method == "post" else self.client.get
        response = send(url, data or {}, secure=True, **extra)
        for name, morsel in response.cookies.items():
            self.seen.setdefault(name, []).append(morsel)
        return response

    def drive_every_flow(self) -> None:
        course = CourseFactory.create(teacher=self.alice, slug="watercolour")
        User.objects.filter(pk=self.alice.pk).update(handle="alice-paints")

        # A visitor lands on a storefront page from a campaign: the analytics cookies.
        self.request(
            "get",
            reverse("storefront:course", args=[course.slug]) + "?utm_source=newsletter",
            HTTP_REFERER="https://news.example.org/spring",
        )
        # The sign-in page: the CSRF cookie. Signing in: the session and a message.
        page = self.request("get", reverse("account_login"))
        assert page.status_code == 200
        signed_in = self.request(
            "post", reverse("account_login"), {"login": self.bob.email, "password": PASSWORD}
        )
        assert signed_in.status_code == 302, signed_in.content[:500]
        # A colour scheme chosen: its own cookie, and a message on the way back.
        self.request("post", reverse("accounts:set_color_scheme"), {"color_scheme": "dark"})
        self.request("get", reverse("dashboard"))
        # Signing out: the session is ended.
        self.request("post", reverse("account_logout"))

    def test_it_runs_with_production_cookie_settings(self) -> None:
        assert settings.DEBUG is False
        assert settings.SESSION_COOKIE_SECURE is True
        assert settings.CSRF_COOKIE_SECURE is True
        assert settings.CSRF_COOKIE_HTTPONLY is True

    def test_it_flags_every_cookie_secure_httponly_and_samesite(self) -> None:
        self.drive_every_flow()

        problems = []
        for name, morsels in self.seen.items():
            for morsel in morsels:
                if _is_deletion(morsel):
                    continue
                if not morsel["secure"]:
                    problems.append(f"{name}: no Secure")
                if not morsel["httponly"]:
                    problems.append(f"{name}: no HttpOnly")
                if str(morsel["samesite"]).lower() not in ("lax", "strict"):
                    problems.append(f"{name}: SameSite={morsel['samesite']!r}")
        assert not problems, problems

    def test_it_saw_every_declared_cookie_being_set(self) -> None:
        # Guards the test above: the flows do set each cookie the site declares.
        self.drive_every_flow()

        expected = {
            settings.SESSION_COOKIE_NAME,
            settings.CSRF_COOKIE_NAME,
            CookieStorage.cookie_name,
            "color_scheme",
            visits.ATTRIB_COOKIE,
            visits.UTM_COOKIE,
        }
        set_with_a_value = {
            name for name, morsels in self.seen.items() if any(m.value for m in morsels)
        }
        assert expected <= set_with_a_value, sorted(expected - set_with_a_value)
        first_party = {c.name for c in cookies.declared() if c.first_party}
        assert first_party <= set_with_a_value, sorted(first_party - set_with_a_value)

    def test_it_sends_deletions_with_samesite_and_no_value(self) -> None:
        self.drive_every_flow()

        session = self.seen[settings.SESSION_COOKIE_NAME]
        assert _is_deletion(session[-1])
        assert session[-1]["samesite"] == "Lax"

    def test_it_never_puts_the_csrf_token_within_reach_of_script(self) -> None:
        page = self.request("get", reverse("account_login"))

        cookie = self.seen[settings.CSRF_COOKIE_NAME][-1]
        assert cookie["httponly"]
        # The form carries its own token, which is what the request is checked against.
        assert re.search(rb'name="csrfmiddlewaretoken" value="[^"]+"', page.content)
