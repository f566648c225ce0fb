"""Signing in and out while Redis is away (the session store is Redis in front of the database)."""

import pytest
from django.contrib.sessions.models import Session
from django.test import Client, override_settings
from django.urls import reverse

from accounts.models import User
from tests.base import PASSWORD

pytestmark = pytest.mark.django_db

# Nothing listens on port 1, so every call to this Redis is refused at once.
REDIS_AWAY = {
    "default": {"BACKEND": "core.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"},
    "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
}
REDIS_SESSIONS = override_settings(SESSION_ENGINE="accounts.sessions")


@REDIS_SESSIONS
def test_signing_in_works_while_redis_is_away(alice: User) -> None:
    browser = Client()
    browser.get(reverse("account_login"))
    with override_settings(CACHES=REDIS_AWAY):
        response = browser.post(
            reverse("account_login"), {"login": alice.email, "password": PASSWORD}
        )
        assert response.status_code == 302
        assert browser.get(reverse("dashboard")).status_code == 200


@REDIS_SESSIONS
def test_signing_out_waits_for_redis_so_no_cached_copy_outlives_it(alice: User) -> None:
    browser = Client(raise_request_exception=False)
    browser.post(reverse("account_login"), {"login": alice.email, "password": PASSWORD})
    session_key = browser.cookies["sessionid"].value

    with override_settings(CACHES=REDIS_AWAY):
        response = browser.post(reverse("account_logout"))
        assert response.status_code == 503
        assert response["Retry-After"]
        # Still signed in, in the database as in the cache: nothing was half done.
        assert Session.objects.filter(session_key=session_key).exists()
        assert browser.get(reverse("dashboard")).status_code == 200

    response = browser.post(reverse("account_logout"))
    assert response.status_code == 302
    assert not Session.objects.filter(session_key=session_key).exists()
    assert browser.get(reverse("dashboard")).status_code == 302
