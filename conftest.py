"""Test-wide setup shared by every app's tests.

The suite runs two ways. With DATABASE_URL / REDIS_URL set, the settings use
that PostgreSQL (through a `test_` database Django creates) and that Redis;
without them, SQLite in memory and the local-memory cache. Tests that only make
sense against a real service use the markers in `core.testing` and are skipped
with the reason shown.

DJANGO_SETTINGS_MODULE is set here, not in pyproject.toml, on purpose: pytest-django
then loads the settings only after this module has run, so the defaults below are
in the environment before `config/settings.py` reads it.
"""

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Production defaults stay on (DEBUG off, secure cookies, HSTS); only what a test
# client cannot satisfy is relaxed: a key, its host names and plain-http requests.
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdefghijkl")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
# Payments are on in tests, against the local stand-in for Stripe (billing/tests/fake_stripe.py)
# where a test starts it; anything else that calls Stripe finds nobody listening.
os.environ.setdefault("STRIPE_SECRET_KEY", "sk_test_lectern")
os.environ.setdefault("STRIPE_PUBLISHABLE_KEY", "pk_test_lectern")
os.environ.setdefault("STRIPE_WEBHOOK_SECRET", "whsec_test_platform_0123456789")
os.environ.setdefault("STRIPE_CONNECT_WEBHOOK_SECRET", "whsec_test_connect_0123456789")
os.environ.setdefault("STRIPE_API_BASE", "http://127.0.0.1:9")
# Files uploaded by tests stay out of the development media folder.
os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="lectern-test-media-"))


def _redis_url_for_this_worker(url: str, worker: str) -> str:
    """Give each parallel test process (pytest-xdist's gw0, gw1, ...) a Redis database of its own.

    Every test empties its Redis database first, and tests that run a Celery worker
    share its queues: two processes on one database would undo each other's state.
    Worker n takes the database after the configured one plus n.
    """
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{base + 1 + int(worker.removeprefix('gw'))}"))


def _keep_this_worker_apart(settings: Any, worker: str) -> None:
    """Give a parallel test process its own Redis database and media folder.

    The settings have read the environment already; the environment is changed
    too for the Celery workers and servers some tests start as subprocesses.
    """
    if settings.REDIS_URL:
        url = _redis_url_for_this_worker(settings.REDIS_URL, worker)
        os.environ["REDIS_URL"] = url
        settings.REDIS_URL = settings.CELERY_BROKER_URL = settings.CELERY_RESULT_BACKEND = url
        settings.CACHES["default"]["LOCATION"] = url
    media = Path(settings.MEDIA_ROOT) / worker
    media.mkdir(exist_ok=True)
    os.environ["MEDIA_ROOT"] = str(media)
    settings.MEDIA_ROOT = media
    storage_options = settings.STORAGES["default"].get("OPTIONS", {})
    if "location" in storage_options:
        storage_options["location"] = media


def pytest_configure(config: pytest.Config) -> None:
    """Set Django up with the environment above; pytest-django takes it from there."""
    import django
    from django.conf import settings

    worker = getattr(config, "workerinput", {}).get("workerid")
    if worker:
        _keep_this_worker_apart(settings, worker)

    django.setup()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that drive a browser and run them after the others.

    `-m "not browser"` then runs everything else, and a quick failure elsewhere
    shows before the slow part. How chromium is launched, and the skip when it
    is missing, live in `tests/browser/conftest.py`.
    """
    browser = [item for item in items if "page" in getattr(item, "fixturenames", ())]
    for item in browser:
        item.add_marker(pytest.mark.browser)
    browser_ids = {id(item) for item in browser}
    items[:] = [item for item in items if id(item) not in browser_ids] + browser


@pytest.fixture(autouse=True, scope="session")
def _static_files_without_collectstatic(django_test_environment: None) -> Iterator[None]:
    """Serve static files from the source folders, as in development.

    Production's manifest storage refuses `{% static %}` for files that
    collectstatic has not processed, and the suite should not need that step.
    """
    from django.conf import settings
    from django.test import override_settings

    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    override = override_settings(
        STORAGES=storages, WHITENOISE_USE_FINDERS=True, WHITENOISE_AUTOREFRESH=True
    )
    override.enable()
    yield
    override.disable()


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing(django_test_environment: None) -> Iterator[None]:
    """Hash passwords cheaply: the production hasher is slow on purpose."""
    from django.test import override_settings

    override = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    override.enable()
    yield
    override.disable()


@pytest.fixture(autouse=True, scope="session")
def _celery_tasks_inline(django_test_environment: None) -> None:
    """Run tasks inline, even with a real broker configured.

    The one test that needs a real worker switches this off for itself.
    """
    from config.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True


@pytest.fixture
def through_the_broker() -> Iterator[None]:
    """Send tasks through the broker for one test, undoing `_celery_tasks_inline`."""
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Start every test with empty caches, so rate-limit counters never leak between tests.

    With REDIS_URL set this empties that Redis database: point tests at a spare one.
    """
    from django.core.cache import caches

    for backend in caches.all():
        backend.clear()
