"""Sign-up refuses a throwaway address with a clear message and stores nothing."""

import re

import pytest
from django.core.mail import EmailMessage
from playwright.sync_api import Page, expect

from accounts.models import User
from tests.browser.kit import SIGN_UP_BUTTON, Browsing, fill_signup_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_refuses_a_disposable_email_address(
    watched_page: Page, browsing: Browsing, mailoutbox: list[EmailMessage]
) -> None:
    page = watched_page
    page.goto(browsing.url("/accounts/signup/"))
    browsing.snap(page, "01-signup")

    fill_signup_form(
        page,
        first_name="Throw",
        last_name="Away",
        email="someone@mailinator.com",
        password="a-long-Passphrase-2026",
        role="student",
        country="GB",
    )
    # The refused form comes back with 400, which Chromium logs as a failed load.
    browsing.allow(r"status of 400 \(Bad Request\)")
    page.get_by_role("button", name=SIGN_UP_BUTTON).click()

    expect(page.get_by_text(re.compile(r"throwaway-mail services can't be used"))).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accounts/signup/$"))
    expect(page.get_by_label("Email")).to_have_value("someone@mailinator.com")
    expect(page.get_by_label("First name")).to_have_value("Throw")
    browsing.snap(page, "02-refused")

    assert not User.objects.filter(email__iexact="someone@mailinator.com").exists()
    assert User.objects.count() == 0
    assert mailoutbox == []
