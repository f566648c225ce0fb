"""The colour scheme switches to dark, stays dark, and is dark from the first paint."""

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from accounts.models import User
from tests.base import PASSWORD
from tests.browser.kit import Browsing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DARK_HTML = re.compile(r"<html[^>]*\sdata-theme=\"dark\"")


def body_luminance(page: Page) -> float:
    """Return the relative luminance (0 black … 1 white) of the body's background."""
    colour = page.evaluate("getComputedStyle(document.body).backgroundColor")
    channels = [float(c) for c in re.findall(r"[\d.]+", colour)[:3]]
    assert len(channels) == 3, f"Unexpected background colour {colour!r}"

    def linear(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_it_keeps_a_signed_in_person_in_dark_mode(
    watched_page: Page,
    browsing: Browsing,
    alice: User,
    log_in: Callable[[Page, str, str, str], None],
) -> None:
    page = watched_page
    log_in(page, alice.email, PASSWORD, "01-login")
    expect(page.locator("html")).not_to_have_attribute("data-theme", "dark")
    assert body_luminance(page) > 0.5
    browsing.snap(page, "02-dashboard-light")

    page.goto(browsing.url("/settings/preferences/"))
    browsing.snap(page, "03-preferences")
    page.get_by_role("radio", name=re.compile(r"^\s*Dark\b")).check()
    page.get_by_role("button", name=re.compile(r"save", re.IGNORECASE)).click()

    expect(page.get_by_text("Your preferences are saved.")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert body_luminance(page) < 0.1
    browsing.snap(page, "04-preferences-dark")

    response = page.reload()
    assert response is not None
    assert DARK_HTML.search(response.text()), "The page is not dark from its first paint"
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert body_luminance(page) < 0.1
    browsing.snap(page, "05-reloaded-dark")

    page.goto(browsing.url("/dashboard/"))
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    browsing.snap(page, "06-dashboard-dark")
    page.goto(browsing.url("/settings/privacy/"))
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    browsing.snap(page, "07-privacy-dark")
    page.goto(browsing.url("/settings/privacy/delete/"))
    browsing.snap(page, "08-delete-account-dark")
    alice.refresh_from_db()
    assert alice.color_scheme == "dark"


def test_it_remembers_a_visitors_dark_mode_in_a_cookie(
    watched_page: Page, browsing: Browsing, context: BrowserContext
) -> None:
    page = watched_page
    page.goto(browsing.url("/"))
    expect(page.locator("html")).not_to_have_attribute("data-theme", "dark")
    assert body_luminance(page) > 0.5
    browsing.snap(page, "01-home-light")

    page.get_by_role("banner").get_by_role("button", name="Dark", exact=True).click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert body_luminance(page) < 0.1
    browsing.snap(page, "02-home-dark")

    cookies = {c["name"]: c["value"] for c in context.cookies()}
    assert cookies.get("color_scheme") == "dark"

    response = page.goto(browsing.url("/accounts/login/"))
    assert response is not None
    assert DARK_HTML.search(response.text()), "The page is not dark from its first paint"
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert body_luminance(page) < 0.1
    browsing.snap(page, "03-login-dark")
