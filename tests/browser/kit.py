"""What the browser tests share: the page watcher and a few page actions."""

import json
import re
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from playwright.sync_api import ConsoleMessage, Error, Page, ViewportSize, expect

# This module loads with the conftest, before Django is set up: billing's modules are
# imported inside the functions that use them.
if TYPE_CHECKING:
    from billing.tests.fake_stripe import FakeStripe

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "browser"
PHONE: ViewportSize = {"width": 390, "height": 844}

# Chromium reports a CSP refusal on the console itself; this listener makes
# sure each one is reported as an error, whatever the browser's wording.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(
    `CSP violation: ${event.violatedDirective} refused ${event.blockedURI || "inline"}`
  );
});
"""


@dataclass
class Browsing:
    """Watch pages for console errors and save a screenshot of each step."""

    test_name: str
    base_url: str
    errors: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def watch(self, page: Page) -> Page:
        """Collect `page`'s console errors, uncaught exceptions and CSP refusals."""
        page.set_default_timeout(10_000)
        page.context.add_init_script(script=CSP_LISTENER)
        page.on("console", lambda message: self._on_console(page, message))
        page.on("pageerror", lambda error: self._on_page_error(page, error))
        return page

    def allow(self, pattern: str) -> None:
        """Accept console errors matching `pattern` from here on (an expected 4xx page)."""
        self.allowed.append(re.compile(pattern))

    def url(self, path: str) -> str:
        """Return the live server's address for `path`."""
        return self.base_url + path

    def snap(self, page: Page, step: str) -> None:
        """Save a full-page screenshot of `page`, then assert it logged no errors."""
        page.wait_for_load_state("load")
        # A sticky header would otherwise be drawn mid-page in a full-page capture.
        page.evaluate('window.scrollTo({top: 0, left: 0, behavior: "instant"})')
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"{self.test_name}-{step}.png", full_page=True)
        self.assert_no_errors()

    def assert_no_errors(self) -> None:
        assert not self.errors, "Console errors or CSP violations:\n" + "\n".join(self.errors)

    def _on_console(self, page: Page, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        text = message.text
        if any(pattern.search(text) for pattern in self.allowed):
            return
        self.errors.append(f"{page.url}: {text} ({message.location.get('url', '')})")

    def _on_page_error(self, page: Page, error: Error) -> None:
        self.errors.append(f"{page.url}: uncaught {error.name}: {error.message}")


LOG_IN_BUTTON = re.compile(r"^\s*(log in|sign in)\s*$", re.IGNORECASE)
DASHBOARD_URL = re.compile(r"/dashboard/$")


def fill_login_form(page: Page, email: str, password: str) -> None:
    """Type an email and password into the login form and send it."""
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name=LOG_IN_BUTTON).click()


SIGN_UP_BUTTON = re.compile(r"^\s*(sign up|create account)\s*$", re.IGNORECASE)
REPEAT_PASSWORD = re.compile(r"^\s*(repeat password|password \(again\)|confirm password)", re.I)
# The role choices are cards whose accessible name starts with the role.
ROLE_RADIOS = {
    "teacher": re.compile(r"^\s*(I'm here to teach|Teach)\b(?!\s+and)", re.IGNORECASE),
    "student": re.compile(r"^\s*(I'm here to learn|Learn)\b", re.IGNORECASE),
}
POLICY_LABELS = {
    "terms": "I have read and accept the Terms of Service",
    "privacy": "I have read and accept the Privacy Policy",
    "instructor-agreement": "I have read and accept the Instructor Agreement",
    "community-guidelines": "I have read and accept the Community Guidelines",
}


def fill_signup_form(
    page: Page,
    *,
    first_name: str,
    last_name: str,
    email: str,
    password: str,
    role: str,
    country: str,
    organisation: str = "",
) -> None:
    """Fill the sign-up form as a 16+ person accepting every policy their role needs."""
    page.get_by_label("First name").fill(first_name)
    page.get_by_label("Last name").fill(last_name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label(REPEAT_PASSWORD).fill(password)
    page.get_by_role("radio", name=ROLE_RADIOS[role]).check()
    if organisation:
        page.get_by_label(re.compile(r"^\s*Organisation")).fill(organisation)
    page.get_by_label("Country", exact=True).select_option(country)
    page.get_by_role("radio", name="16 or older").check()
    for slug, label in POLICY_LABELS.items():
        if slug != "instructor-agreement" or role == "teacher":
            page.get_by_label(label).check()


# --- Screenshots in every scheme and width ----------------------------------------------------


def switch_scheme(page: Page, scheme: str) -> None:
    """Press the header's colour-scheme button and wait for the choice to be saved."""
    with page.expect_response(re.compile(r"/preferences/color-scheme/")) as saved:
        page.get_by_role("banner").get_by_role("button", name=scheme, exact=True).click()
    assert saved.value.status == 204
    expect(page.locator("html")).to_have_attribute("data-theme", scheme.lower())
    # Colours ease into the new scheme: let every transition end before a screenshot.
    page.evaluate("Promise.all(document.getAnimations().map((a) => a.finished))")


def snap_light_and_dark(page: Page, browsing: Browsing, step: str) -> None:
    browsing.snap(page, f"{step}-light")
    switch_scheme(page, "Dark")
    browsing.snap(page, f"{step}-dark")
    switch_scheme(page, "Light")


def snap_on_a_phone(page: Page, browsing: Browsing, step: str) -> None:
    size = page.viewport_size
    page.set_viewport_size(PHONE)
    try:
        browsing.snap(page, step)
    finally:
        if size is not None:
            page.set_viewport_size(size)


def snap_everywhere(page: Page, browsing: Browsing, step: str) -> None:
    """Screenshots in light and dark, and on a phone."""
    snap_light_and_dark(page, browsing, step)
    snap_on_a_phone(page, browsing, f"{step}-phone")


# --- Stripe's webhooks --------------------------------------------------------------------------


def post_stripe_event(browsing: Browsing, event: dict[str, Any]) -> dict[str, Any]:
    """POST `event`, signed, to the live server's webhook, as Stripe does; return the answer."""
    from billing.tests.fake_stripe import signed

    body, signature = signed(event)
    request = urllib.request.Request(
        browsing.url("/billing/webhooks/stripe/"),
        data=body.encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Stripe-Signature": signature},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        answer: dict[str, Any] = json.loads(response.read())
    return answer


def stripe_sends_the_webhooks(browsing: Browsing, stripe: "FakeStripe") -> None:
    """POST the events the stand-in made for plans (checkouts, changes) to the live server."""
    from billing.models import StripeEvent

    events = stripe.billing.take_events()
    for event in events:
        post_stripe_event(browsing, event)
    processed = StripeEvent.objects.filter(event_id__in=[e["id"] for e in events])
    assert set(processed.values_list("status", flat=True)) == {"done"}
