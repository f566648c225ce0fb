"""The signed-in user comes from the shared cache, and is never an out-of-date copy."""

import pickle
from collections.abc import Callable

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY
from django.core.cache import cache
from django.db import connection
from django.test import Client, RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from accounts import user_cache
from accounts.middleware import AuthenticationMiddleware
from accounts.models import User
from accounts.sessions import SessionStore
from core.testing import requires_redis
from tests.base import PASSWORD

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("dashboard")
# A small page every browser may ask for, signed in or not.
SIMPLE = reverse("csrf_token")
LOCAL_MEMORY = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "local"},
}


def queries_for(browser: Client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert browser.get(url).status_code == 200
    return [q["sql"] for q in queries.captured_queries]


def user_queries(sql: list[str]) -> list[str]:
    return [q for q in sql if 'FROM "accounts_user"' in q]


def is_signed_in(browser: Client) -> bool:
    return browser.get(DASHBOARD).status_code == 200


@pytest.fixture
def laptop(client_for: Callable[..., Client], bob: User) -> Client:
    """Bob's laptop, past its first request (which records the session)."""
    laptop = client_for(bob)
    laptop.get(SIMPLE)
    return laptop


@requires_redis
def test_it_answers_a_signed_in_request_without_a_query(laptop: Client) -> None:
    assert queries_for(laptop, SIMPLE) == []


@override_settings(CACHES=LOCAL_MEMORY)
def test_it_loads_the_user_with_one_query_without_a_shared_cache(
    client_for: Callable[..., Client], bob: User
) -> None:
    laptop = client_for(bob)
    laptop.get(SIMPLE)

    sql = queries_for(laptop, SIMPLE)

    assert len(user_queries(sql)) == 1
    assert len(sql) <= 2  # and the session, kept in the database


def test_it_keeps_request_user_lazy(laptop: Client, bob: User) -> None:
    request = RequestFactory().get(SIMPLE)
    request.session = laptop.session
    middleware = AuthenticationMiddleware(lambda request: None)  # type: ignore[arg-type]

    with CaptureQueriesContext(connection) as queries:
        middleware.process_request(request)
    assert isinstance(request.user, SimpleLazyObject)
    assert queries.captured_queries == []

    assert request.user.pk == bob.pk


@requires_redis
def test_it_keeps_the_password_hash_out_of_the_cache(laptop: Client, bob: User) -> None:
    auth_hash, kept = cache.get(user_cache._user_copies().key(bob.pk))

    assert kept.pk == bob.pk
    assert "password" not in kept.__dict__
    assert bob.password not in str(pickle.dumps(kept))
    assert auth_hash == bob.get_session_auth_hash()


def test_it_still_reads_the_password_when_asked(laptop: Client, bob: User) -> None:
    response = laptop.get(reverse("account_change_password"))

    assert response.context["user"].check_password(PASSWORD)


def test_it_signs_out_other_browsers_when_the_password_changes(
    laptop: Client, client_for: Callable[..., Client], bob: User
) -> None:
    other = client_for(bob)
    assert is_signed_in(other)

    bob.set_password("a new and long passphrase")
    bob.save()

    assert not is_signed_in(laptop)
    assert not is_signed_in(other)


def test_it_keeps_the_browser_that_changed_the_password(
    laptop: Client, client_for: Callable[..., Client], bob: User
) -> None:
    other = client_for(bob)
    assert is_signed_in(other)

    response = laptop.post(
        reverse("account_change_password"),
        {
            "oldpassword": PASSWORD,
            "password1": "a new and long passphrase",
            "password2": "a new and long passphrase",
        },
    )

    assert response.status_code == 302
    assert is_signed_in(laptop)
    assert not is_signed_in(other)


def test_it_signs_out_a_switched_off_account_at_once(laptop: Client, bob: User) -> None:
    assert is_signed_in(laptop)

    bob.is_active = False
    bob.save(update_fields=["is_active"])

    assert not is_signed_in(laptop)


def test_it_signs_out_an_account_switched_off_by_an_update(laptop: Client, bob: User) -> None:
    assert is_signed_in(laptop)

    User.objects.filter(pk=bob.pk).update(is_active=False)

    assert not is_signed_in(laptop)


def test_it_signs_out_a_deleted_account_at_once(laptop: Client, bob: User) -> None:
    assert is_signed_in(laptop)

    bob.delete()

    assert not is_signed_in(laptop)


def test_it_shows_a_changed_name_at_once(laptop: Client, bob: User) -> None:
    assert laptop.get(DASHBOARD).context["user"].first_name == bob.first_name

    User.objects.filter(pk=bob.pk).update(first_name="Roberta")

    assert laptop.get(DASHBOARD).context["user"].first_name == "Roberta"


@pytest.mark.parametrize("backend", settings.AUTHENTICATION_BACKENDS)
def test_it_keeps_sessions_signed_in_by_each_backend(bob: User, backend: str) -> None:
    browser = Client()
    browser.force_login(bob, backend=backend)

    assert is_signed_in(browser)
    assert is_signed_in(browser)


@requires_redis
@pytest.mark.parametrize("backend", settings.AUTHENTICATION_BACKENDS)
def test_it_keeps_a_copy_for_sessions_of_each_backend(bob: User, backend: str) -> None:
    browser = Client()
    browser.force_login(bob, backend=backend)
    browser.get(SIMPLE)

    assert user_queries(queries_for(browser, SIMPLE)) == []


@requires_redis
def test_it_keeps_no_copy_for_a_session_it_does_not_trust(laptop: Client, bob: User) -> None:
    session = laptop.session
    session[BACKEND_SESSION_KEY] = "accounts.tests.test_signed_in_user.UnknownBackend"
    session.save()
    cache.delete(user_cache._user_copies().key(bob.pk))

    assert not is_signed_in(laptop)
    assert cache.get(user_cache._user_copies().key(bob.pk)) is None


@requires_redis
def test_it_reads_the_users_copy_together_with_the_session(laptop: Client, bob: User) -> None:
    laptop.get(SIMPLE)  # this process now knows whose session it is
    store = SessionStore(laptop.session.session_key)

    assert store[SESSION_KEY] == str(bob.pk)
    key, (auth_hash, kept) = store.user_copy  # type: ignore[misc]
    assert key == user_cache._user_copies().key(bob.pk)
    assert (auth_hash, kept.pk) == (bob.get_session_auth_hash(), bob.pk)


@requires_redis
def test_it_ignores_a_copy_read_for_another_user(
    laptop: Client, bob: User, carol: User, client_for: Callable[..., Client]
) -> None:
    client_for(carol).get(SIMPLE)  # carol's copy is kept
    session = laptop.session
    session.user_copy = (  # type: ignore[attr-defined]
        user_cache._user_copies().key(bob.pk),
        cache.get(user_cache._user_copies().key(carol.pk)),
    )
    request = RequestFactory().get(SIMPLE)
    request.session = session

    user = user_cache.get_user(request)

    assert user.pk == bob.pk
