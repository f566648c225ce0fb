"""A new teacher signs up, verifies their email, logs out and in, and edits their profile."""

import re
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.core.mail import EmailMessage
from playwright.sync_api import Page, expect

from accounts.models import User
from privacy.models import PolicyAcceptance
from tests.browser.kit import DASHBOARD_URL, SIGN_UP_BUTTON, Browsing, fill_signup_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-Passphrase-2026"
LOG_OUT = re.compile(r"^\s*(log out|sign out)\s*$", re.IGNORECASE)
TITLE = re.compile(r"^\s*Title\b")
ORGANISATION = re.compile(r"^\s*Organisation\b")
CONFIRM_LINK = re.compile(r"https?://[^\s\"'<>]+/accounts/confirm-email/[^/\s\"'<>]+/")


def confirmation_path(message: EmailMessage) -> str:
    """Return the path of the verification link in `message`'s text (or HTML) body."""
    bodies = [message.body, *(content for content, _ in getattr(message, "alternatives", []))]
    for body in bodies:
        found = CONFIRM_LINK.search(str(body))
        if found:
            return urlsplit(found.group(0)).path
    raise AssertionError(f"No confirmation link in the email:\n{message.body}")


def test_it_signs_up_verifies_logs_out_logs_in_and_edits_profile(
    watched_page: Page,
    browsing: Browsing,
    mailoutbox: list[EmailMessage],
    log_in: Callable[[Page, str, str, str], None],
) -> None:
    page = watched_page
    page.goto(browsing.url("/"))
    browsing.snap(page, "01-home")

    page.get_by_role("link", name=re.compile(r"^\s*sign up", re.IGNORECASE)).first.click()
    expect(page).to_have_url(re.compile(r"/accounts/signup/$"))
    browsing.snap(page, "02-signup")

    fill_signup_form(
        page,
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
        password=PASSWORD,
        role="teacher",
        organisation="Analytical Studio",
        country="US",
    )
    browsing.snap(page, "03-signup-filled")
    page.get_by_role("button", name=SIGN_UP_BUTTON).click()

    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/$"))
    expect(page.get_by_role("main")).to_contain_text(
        re.compile(r"check your inbox|verify your", re.IGNORECASE)
    )
    browsing.snap(page, "04-verify-your-email")

    ada = User.objects.get(email="ada@example.com")
    assert ada.is_teacher
    assert not EmailAddress.objects.get(user=ada).verified
    assert set(PolicyAcceptance.objects.filter(user=ada).values_list("document", flat=True)) == {
        "terms",
        "privacy",
        "instructor-agreement",
        "community-guidelines",
    }
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["ada@example.com"]

    page.goto(browsing.url(confirmation_path(mailoutbox[0])))
    browsing.snap(page, "05-confirm-email")
    page.get_by_role("button", name=re.compile(r"confirm", re.IGNORECASE)).click()

    # A new account is welcomed with a few optional questions; Ada skips them.
    expect(page).to_have_url(re.compile(r"/welcome/$"))
    browsing.snap(page, "06-welcome-questions")
    page.get_by_role("button", name="Skip").click()
    expect(page).to_have_url(DASHBOARD_URL)
    expect(page.get_by_role("main")).to_contain_text("Ada")
    browsing.snap(page, "06-dashboard")
    assert EmailAddress.objects.get(user=ada).verified

    page.get_by_role("banner").get_by_role("button", name=LOG_OUT).click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    expect(
        page.get_by_role("link", name=re.compile(r"^\s*log in", re.IGNORECASE)).first
    ).to_be_visible()
    browsing.snap(page, "07-logged-out")

    log_in(page, "ada@example.com", PASSWORD, "08-login")
    expect(page.get_by_role("main")).to_contain_text("Ada")
    browsing.snap(page, "09-dashboard-again")

    page.get_by_role("banner").get_by_role("link", name="Settings").click()
    expect(page).to_have_url(re.compile(r"/settings/profile/$"))
    browsing.snap(page, "10-profile")
    page.get_by_label(TITLE).fill("Countess")
    page.get_by_label(ORGANISATION).fill("Difference Engine School")
    page.get_by_role("button", name=re.compile(r"save", re.IGNORECASE)).click()

    expect(page.get_by_text("Your profile is saved.")).to_be_visible()
    expect(page.get_by_label(TITLE)).to_have_value("Countess")
    expect(page.get_by_label(ORGANISATION)).to_have_value("Difference Engine School")
    browsing.snap(page, "11-profile-saved")
    ada.refresh_from_db()
    assert (ada.title, ada.organisation_name) == ("Countess", "Difference Engine School")
