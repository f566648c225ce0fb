"""A person sees where they are signed in and ends the session on another device."""

import re
from collections.abc import Callable

import pytest
from allauth.usersessions.models import UserSession
from playwright.sync_api import BrowserContext, Page, expect

from accounts.models import User
from tests.base import PASSWORD
from tests.browser.kit import Browsing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OTHER_DEVICE_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0"
END_SESSION = re.compile(r"^\s*end (this )?session\b", re.IGNORECASE)


def test_it_ends_the_session_on_another_device(
    watched_page: Page,
    browsing: Browsing,
    alice: User,
    new_context: Callable[..., BrowserContext],
    log_in: Callable[[Page, str, str, str], None],
) -> None:
    laptop = watched_page
    phone = browsing.watch(new_context(user_agent=OTHER_DEVICE_UA).new_page())
    log_in(laptop, alice.email, PASSWORD, "01-laptop-login")
    log_in(phone, alice.email, PASSWORD, "02-other-device-login")
    assert UserSession.objects.filter(user=alice).count() == 2

    laptop.get_by_role("banner").get_by_role("link", name="Settings").click()
    laptop.get_by_role("navigation", name="Settings").get_by_role("link", name="Sessions").click()
    expect(laptop).to_have_url(re.compile(r"/settings/sessions/$"))
    main = laptop.get_by_role("main")
    sessions = main.get_by_role("row").filter(has=laptop.get_by_role("cell"))
    expect(sessions).to_have_count(2)
    expect(sessions.filter(has_text="This device")).to_have_count(1)
    expect(sessions.filter(has_text="This device")).not_to_contain_text("Firefox")
    other = sessions.filter(has_text="Firefox")
    expect(other).to_have_count(1)
    expect(other.get_by_role("button", name=END_SESSION)).to_have_count(1)
    expect(main.get_by_role("button", name=END_SESSION)).to_have_count(1)
    browsing.snap(laptop, "03-sessions")

    other.get_by_role("button", name=END_SESSION).click()
    expect(laptop.get_by_text("That session has been signed out.")).to_be_visible()
    expect(sessions).to_have_count(1)
    expect(sessions.filter(has_text="This device")).to_have_count(1)
    browsing.snap(laptop, "04-sessions-after-ending")
    assert UserSession.objects.filter(user=alice).count() == 1

    phone.goto(browsing.url("/dashboard/"))
    expect(phone).to_have_url(re.compile(r"/accounts/login/"))
    expect(phone.get_by_label("Email")).to_be_visible()
    browsing.snap(phone, "05-other-device-signed-out")

    laptop.goto(browsing.url("/dashboard/"))
    expect(laptop).to_have_url(re.compile(r"/dashboard/$"))
