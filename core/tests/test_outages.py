"""What Lectern does while Redis or the database is away (tests/faults/ runs the real thing)."""

import logging

import psycopg
import pytest
from django.conf import settings
from django.core.cache import caches
from django.db import InterfaceError, OperationalError, connection
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from core import ratelimit
from core.cache import CacheUnreachableError, Copies, RedisCache
from core.pool import check_pooled_connection
from core.testing import requires_postgres
from core.views import server_error

# Nothing listens on port 1, so a connection there is refused at once.
UNREACHABLE = {
    "default": {"BACKEND": "core.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"},
    "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
}


@override_settings(CACHES=UNREACHABLE)
def test_it_answers_an_unreachable_redis_as_an_empty_cache() -> None:
    cache = caches["default"]

    assert cache.get("anything", "default") == "default"
    assert cache.get_many(["a", "b"]) == {}
    assert not cache.has_key("a")
    cache.set("a", 1)
    cache.set_many({"a": 1, "b": 2})
    cache.delete("a")
    cache.delete_many(["a", "b"])
    # Whatever waits on add() (a lock, a rate-limit counter) goes ahead.
    assert cache.add("lock", 1) is True


@override_settings(CACHES=UNREACHABLE)
def test_it_logs_once_and_stops_trying_for_a_moment(caplog: pytest.LogCaptureFixture) -> None:
    cache = caches["default"]
    assert isinstance(cache, RedisCache)

    with caplog.at_level(logging.WARNING, logger="core.cache"):
        for _ in range(5):
            cache.get("anything")

    assert [r.message for r in caplog.records] == ["cache.unreachable"]
    assert cache._down_until > 0


@override_settings(CACHES=UNREACHABLE)
def test_it_refuses_to_drop_copies_quietly() -> None:
    caches["default"].get("warm the breaker")  # fails and marks Redis down

    with pytest.raises(CacheUnreachableError):
        Copies("user", timeout=60).drop([1])


@override_settings(CACHES=UNREACHABLE)
def test_it_lets_rate_limited_actions_through_without_a_cache() -> None:
    limit = ratelimit.Limit("test_outage", count=1, window=60)

    verdicts = [ratelimit.hit(limit, "someone") for _ in range(3)]

    assert all(verdict.allowed for verdict in verdicts)


@pytest.mark.django_db
@override_settings(CACHES=UNREACHABLE, REDIS_URL="")
def test_healthz_names_redis_when_it_is_unreachable(client: Client) -> None:
    response = client.get(reverse("healthz"))

    assert response.status_code == 503
    assert response.json()["failing"] == ["cache"]
    assert response.json()["down"] == ["redis"]


@pytest.mark.parametrize("error", [OperationalError("server closed"), InterfaceError("closed")])
def test_it_answers_503_with_retry_after_while_the_database_is_away(error: Exception) -> None:
    request = RequestFactory().get("/")
    try:
        raise error
    except Exception:
        response = server_error(request)

    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert b"back in a moment" in response.content


def test_it_answers_500_for_other_errors() -> None:
    request = RequestFactory().get("/")
    try:
        raise ValueError("a bug")
    except ValueError:
        response = server_error(request)

    assert response.status_code == 500


def _connect() -> psycopg.Connection:
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        dbname=db["NAME"],
        autocommit=True,
    )


@requires_postgres
@pytest.mark.django_db
def test_the_pool_check_passes_a_live_connection() -> None:
    with _connect() as conn:
        check_pooled_connection(conn)
        assert not conn.closed


@requires_postgres
@pytest.mark.django_db
def test_the_pool_check_drops_a_connection_the_server_ended() -> None:
    assert settings.DATABASES["default"]["OPTIONS"]["pool"]["check"] is check_pooled_connection
    with _connect() as conn, _connect() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [conn.info.backend_pid])
        refused = None
        for _ in range(50):  # the server's goodbye arrives within moments
            try:
                check_pooled_connection(conn)
            except psycopg.OperationalError as error:
                refused = error
                break
            admin.execute("SELECT pg_sleep(0.01)")

        assert refused is not None
        assert conn.closed
