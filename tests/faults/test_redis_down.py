"""Redis stopped under a running gunicorn, then started again.

While Redis is away, signed-in people still get their pages (sessions are
kept in the database too), rate limits let people through and say so in the
log, work that needed a task is kept in the database and its task sent once
Redis is back, and /healthz answers 503 naming Redis. Once it is back, all of
it is normal again, rate limits included.
"""

import contextlib
import datetime as dt
import http.cookiejar
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import requests
from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from config.celery import app as celery_app
from core.cache import RETRY_SECONDS
from core.testing import requires_postgres
from privacy import export
from privacy.models import ExportRequest
from tests.faults.kit import Gunicorn, gunicorn, private_redis, production_env

pytestmark = [requires_postgres, pytest.mark.services, pytest.mark.django_db(transaction=True)]

WRONG_PASSWORD = "not the password at all"
# allauth's answer to more than 5 wrong passwords for one address in 5 minutes (a form error).
TOO_MANY = "Too many failed login attempts"


def shared_database_url() -> str:
    """Return the URL of the test database this process uses, for other processes to share."""
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def signed_in(person: User) -> requests.Session:
    """Return an HTTP session carrying `person`'s session cookie, made the way Django signs in."""
    client = Client()
    client.force_login(person)
    browser = requests.Session()
    browser.cookies.set(
        settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value
    )
    return browser


def post_with_csrf(
    browser: requests.Session, server: Gunicorn, path: str, data: dict
) -> requests.Response:
    token = browser.get(server.url(reverse("csrf_token")), timeout=10).json()["token"]
    # Production marks the CSRF cookie Secure; these requests are plain http on 127.0.0.1.
    for cookie in list(http.cookiejar.CookieJar.__iter__(browser.cookies)):
        if cookie.secure:
            browser.cookies.set(cookie.name, cookie.value)
    return browser.post(
        server.url(path),
        data=data,
        headers={"X-CSRFToken": token},
        allow_redirects=False,
        timeout=15,
    )


def refused_logins(server: Gunicorn, email: str, attempts: int) -> list[bool]:
    """Sign in with a wrong password `attempts` times; say each time whether the limit refused."""
    browser = requests.Session()
    path = reverse("account_login")
    answers = [
        post_with_csrf(browser, server, path, {"login": email, "password": WRONG_PASSWORD})
        for _ in range(attempts)
    ]
    assert all(answer.status_code in (400, 429) for answer in answers)
    return [answer.status_code == 429 or TOO_MANY in answer.text for answer in answers]


def queued_tasks(url: str) -> list[tuple[str, str]]:
    """Return (task name, its arguments) of each message waiting in Celery's default queue."""
    messages = redis.Redis.from_url(url).lrange("celery", 0, -1)
    return [
        (headers["task"], headers["argsrepr"])
        for headers in (json.loads(message)["headers"] for message in messages)
    ]


@contextlib.contextmanager
def sending_to(url: str) -> Iterator[None]:
    """Send this process's tasks to the broker at `url` for a while, as the periodic job's would."""
    app: Any = celery_app  # its connection pools are internals the stubs don't describe
    saved = app.conf.broker_url, app.conf.task_always_eager
    app.conf.broker_url, app.conf.task_always_eager = url, False
    app._pool = app.amqp._producer_pool = None
    try:
        yield
    finally:
        app.conf.broker_url, app.conf.task_always_eager = saved
        app._pool = app.amqp._producer_pool = None


def test_pages_limits_tasks_and_health_survive_redis_going_away(bob: User) -> None:
    with private_redis() as broker:
        env = production_env(
            DATABASE_URL=shared_database_url(),
            REDIS_URL=broker.url(0),
            SECRET_KEY=settings.SECRET_KEY,
        )
        with gunicorn(env) as server:
            browser = signed_in(bob)
            dashboard = server.url(reverse("dashboard"))
            first = browser.get(dashboard, allow_redirects=False, timeout=10)
            assert first.status_code == 200
            assert requests.get(server.url("/healthz"), timeout=10).status_code == 200

            broker.stop()

            # Signed-in pages keep rendering, on every worker.
            for _ in range(6):
                page = browser.get(dashboard, allow_redirects=False, timeout=10)
                assert page.status_code == 200
                assert bob.first_name in page.text

            health = requests.get(server.url("/healthz"), timeout=10)
            assert health.status_code == 503
            assert health.json()["down"] == ["redis"]
            assert set(health.json()["failing"]) == {"cache", "broker"}
            assert health.json()["checks"]["database"] == "ok"

            # Rate limits fail open: more wrong passwords than the limit allows, none refused.
            assert refused_logins(server, "someone@example.com", 6) == [False] * 6

            # Work that needs a task is kept; the request still gets its normal answer.
            requested = post_with_csrf(browser, server, reverse("privacy:export_request"), {})
            assert requested.status_code == 302
            [waiting] = ExportRequest.objects.filter(user=bob)
            assert waiting.state == ExportRequest.State.QUEUED

            log = server.log()
            assert "cache.unreachable" in log
            assert "could not run a task; its periodic job will" in log

            broker.start()  # empty, like a Redis that lost what it held
            # A worker that saw Redis fail leaves it alone for this long before trying again.
            time.sleep(RETRY_SECONDS)

            assert requests.get(server.url("/healthz"), timeout=10).status_code == 200
            page = browser.get(dashboard, allow_redirects=False, timeout=10)
            assert page.status_code == 200
            assert bob.first_name in page.text
            # Counting again: the sixth wrong password for one address within 5 minutes is refused.
            assert refused_logins(server, "someone@example.com", 6) == [False] * 5 + [True]
            assert "cache.reachable_again" in server.log()

        # An hour on, the periodic job finds the export nobody built and queues its task again.
        ExportRequest.objects.filter(pk=waiting.pk).update(
            requested_at=timezone.now() - dt.timedelta(hours=2)
        )
        with sending_to(broker.url(0)), transaction.atomic():
            export.purge_expired_exports(export.expired_exports())
        assert ("privacy.tasks.build_export_task", f"({waiting.pk},)") in queued_tasks(
            broker.url(0)
        )
