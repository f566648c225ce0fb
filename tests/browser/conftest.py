"""Fixtures for the browser tests: Debian's Chromium against a live server.

Every page a test visits is checked for console errors (which include Content
Security Policy refusals) and saved as a full-page screenshot under
`artifacts/browser/<test>-<step>.png`. After each test, every cookie the
browser holds must be declared in `privacy/cookies.py`, which the cookies page
lists.
"""

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from playwright.sync_api import Page, expect

from privacy import cookies as privacy_cookies
from tests.browser.kit import ARTIFACTS, DASHBOARD_URL, Browsing, fill_login_form

if TYPE_CHECKING:
    from billing.tests.fake_stripe import FakeStripe

# Playwright's sync API runs an event loop in the test thread; Django would
# otherwise refuse ORM calls from that thread (fixtures, assertions, outbox).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = shutil.which("chromium")
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip every browser test, saying why, when Debian's Chromium is not installed."""
    if CHROMIUM:
        return
    skip = pytest.mark.skip(
        reason="chromium is not installed (apt-get install -y chromium); browser tests skipped"
    )
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    """Launch the system Chromium; Playwright's own browser download is never used."""
    return {
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
            "--disable-dev-shm-usage",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """Use one desktop size and a light device preference, so runs look alike."""
    return {
        **browser_context_args,
        "viewport": {"width": 1280, "height": 800},
        "color_scheme": "light",
        "locale": "en-GB",
        "timezone_id": "UTC",
    }


@pytest.fixture(autouse=True)
def _only_declared_cookies(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a browser test whose pages set a cookie the cookies page does not declare."""
    if "page" not in request.fixturenames and "context" not in request.fixturenames:
        yield
        return
    # Requested here, so this check runs before the browser context is closed.
    context = request.getfixturevalue("context")
    yield
    undeclared = sorted({c["name"] for c in context.cookies()} - privacy_cookies.declared_names())
    assert not undeclared, (
        f"Cookies set but not declared in privacy/cookies.py: {', '.join(undeclared)}. "
        "Declare each one (purpose, lifetime, essential or not) so /cookies/ lists it."
    )


@pytest.fixture
def browsing(request: pytest.FixtureRequest, live_server: Any) -> Iterator[Browsing]:
    """Return this test's page watcher; fail the test if an error slipped by unseen."""
    expect.set_options(timeout=10_000)
    name = request.node.originalname
    for old in ARTIFACTS.glob(f"{name}-*.png"):
        old.unlink()  # a step that no longer exists must not look current
    watcher = Browsing(test_name=name, base_url=live_server.url)
    yield watcher
    watcher.assert_no_errors()


@pytest.fixture
def watched_page(page: Page, browsing: Browsing) -> Page:
    """Return pytest-playwright's page, watched for console errors."""
    return browsing.watch(page)


@pytest.fixture
def log_in(browsing: Browsing) -> Callable[[Page, str, str, str], None]:
    """Return a helper that signs in through the login page and lands on the dashboard."""

    def sign_in(page: Page, email: str, password: str, step: str) -> None:
        page.goto(browsing.url("/accounts/login/"))
        expect(page.get_by_label("Email")).to_be_visible()
        browsing.snap(page, step)
        fill_login_form(page, email, password)
        expect(page).to_have_url(DASHBOARD_URL)

    return sign_in


@pytest.fixture
def one_request_at_a_time_on_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    """Serve one request at a time when the tests run on SQLite.

    With an in-memory SQLite database the live server's threads share one
    connection, and two pages polling at once would trip over each other's
    statements ("table is locked"): something PostgreSQL, which CI and
    production use, never does.
    """
    if connection.vendor == "sqlite":
        lock = threading.Lock()
        original = WSGIHandler.__call__

        def serialised(self: WSGIHandler, environ: Any, start_response: Any) -> Any:
            with lock:
                return original(self, environ, start_response)

        monkeypatch.setattr(WSGIHandler, "__call__", serialised)


@pytest.fixture(autouse=True)
def _no_request_in_flight_at_teardown(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Let the live server finish every request before the database is emptied.

    A page that polls may have a request in the server when its test ends; the
    teardown's TRUNCATE would then wait on that request's locks while the
    request waits on the TRUNCATE's, and PostgreSQL ends one of them as a
    deadlock. So the page is left first, and the teardown waits for the server
    to be idle.
    """
    if "browser" not in request.fixturenames:
        yield
        return
    idle = threading.Condition()
    in_flight = 0
    original = WSGIHandler.__call__

    def counted(self: WSGIHandler, environ: Any, start_response: Any) -> Any:
        nonlocal in_flight
        with idle:
            in_flight += 1
        try:
            return original(self, environ, start_response)
        finally:
            with idle:
                in_flight -= 1
                idle.notify_all()

    monkeypatch.setattr(WSGIHandler, "__call__", counted)
    # A test that opens its own contexts (from `browser`) closes them itself.
    page: Page | None = request.getfixturevalue("page") if "page" in request.fixturenames else None
    yield
    if page is not None and not page.is_closed():
        page.goto("about:blank")
    with idle:
        idle.wait_for(lambda: in_flight == 0, timeout=10)


@pytest.fixture
def stripe(settings: Any) -> Iterator["FakeStripe"]:
    """Stripe's stand-in, with every call of this server pointed at it.

    Its onboarding, Checkout and portal pages stand where Stripe's own are, so the forms
    that redirect there (Connect, Buy, Choose a plan) may send the browser to its origin.
    """
    from billing.tests.fake_stripe import FakeStripe

    with FakeStripe() as fake:
        settings.STRIPE_API_BASE = fake.url
        csp = dict(settings.SECURE_CSP)
        csp["form-action"] = [*csp["form-action"], fake.url]
        settings.SECURE_CSP = csp
        yield fake


@pytest.fixture
def plans_synced(stripe: "FakeStripe") -> None:
    """The default plan catalogue, with its Stripe Products and Prices at the stand-in."""
    from billing.services import catalogue
    from billing.tests.kit import restore_default_catalogue

    restore_default_catalogue()
    catalogue.sync_plans()
