"""GET /healthz: what a load balancer and docker compose poll."""

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from config.celery import app as celery_app
from core.testing import requires_redis

# Nothing listens on port 1, so a connection there is refused at once.
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"
UNREACHABLE_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": UNREACHABLE_REDIS,
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}


@pytest.mark.django_db
def test_it_reports_ok_when_the_database_and_cache_answer(client: Client) -> None:
    response = client.get(reverse("healthz"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"] == "ok"
    assert body["failing"] == []


@pytest.mark.django_db
def test_it_is_never_cached(client: Client) -> None:
    response = client.get(reverse("healthz"))

    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_it_names_the_cache_when_the_cache_is_unreachable(client: Client) -> None:
    # Changing CACHES makes Django build a fresh cache handler from it.
    with override_settings(CACHES=UNREACHABLE_CACHE):
        response = client.get(reverse("healthz"))

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failing"
    assert body["failing"] == ["cache"]
    assert body["checks"]["database"] == "ok"


def test_it_names_the_database_when_the_database_refuses_connections(client: Client) -> None:
    # Without the django_db mark pytest-django refuses every connection attempt,
    # which is what a database that is down looks like to the view.
    response = client.get(reverse("healthz"))

    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["database"]
    assert body["checks"]["cache"] == "ok"


@pytest.mark.django_db
@override_settings(REDIS_URL="")
def test_it_leaves_the_broker_out_when_no_broker_is_configured(client: Client) -> None:
    body = client.get(reverse("healthz")).json()

    assert "broker" not in body["checks"]


@pytest.mark.django_db
def test_it_names_the_broker_when_the_broker_is_unreachable(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(celery_app.conf, "broker_url", UNREACHABLE_REDIS)

    with override_settings(REDIS_URL=UNREACHABLE_REDIS):
        response = client.get(reverse("healthz"))

    assert response.status_code == 503
    assert response.json()["failing"] == ["broker"]


@requires_redis
@pytest.mark.django_db
def test_it_checks_the_real_broker_when_redis_is_configured(client: Client) -> None:
    response = client.get(reverse("healthz"))

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "broker": "ok"}
