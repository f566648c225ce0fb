"""What the browser tests share: the page watcher and a few page actions."""

import re
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import ConsoleMessage, Error, Page

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "browser"

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
