"""A student downloads their data, then deletes the account: cancelled once, then for good."""

import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from accounts.models import User
from courses.models import Enrollment
from courses.tests.factories import CourseFactory
from privacy import tasks
from privacy.models import DeletionRequest
from tests.base import PASSWORD
from tests.browser.kit import ARTIFACTS, Browsing, fill_login_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LINK = re.compile(r"https?://\S+")


def _link_in_last_email(to: str, subject_part: str) -> str:
    [message] = [m for m in mail.outbox if to in m.to and subject_part in m.subject]
    links = [link for link in LINK.findall(str(message.body)) if "/unsubscribe/" not in link]
    assert links, message.body
    return links[0]


def _to_live_server(url: str, browsing: Browsing) -> str:
    # Emails carry SITE_URL; the browser talks to the live test server.
    path = re.sub(r"^https?://[^/]+", "", url)
    return browsing.url(path)


def _open_privacy_settings(page: Page) -> None:
    page.get_by_role("banner").get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Privacy").click()
    expect(page).to_have_url(re.compile(r"/settings/privacy/$"))


def _request_deletion(page: Page, browsing: Browsing, step: str) -> None:
    page.get_by_role("link", name=re.compile(r"Delete my account")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete your account")
    browsing.snap(page, step)
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label(re.compile(r"^I understand")).check()
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("heading", name="Your account will be deleted")).to_be_visible()


def test_it_exports_then_deletes_an_account(
    watched_page: Page,
    browsing: Browsing,
    bob: User,
    alice: User,
    settings: Any,
    log_in: Callable[[Page, str, str, str], None],
    tmp_path: Path,
) -> None:
    page = watched_page
    course = CourseFactory.create(teacher=alice, title="Watercolour Basics")
    Enrollment.objects.create(course=course, student=bob)
    # What anyone can read first: the policy, its cookie list and its outside services.
    for step, path, heading in (
        ("00a-privacy-policy", "/privacy/", "Privacy Policy"),
        ("00b-cookies", "/cookies/", "Cookies"),
        ("00c-subprocessors", "/subprocessors/", "Subprocessors"),
    ):
        page.goto(browsing.url(path))
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        browsing.snap(page, step)
    log_in(page, bob.email, PASSWORD, "01-login")

    # What Lectern holds, then "Download my data".
    _open_privacy_settings(page)
    held = page.get_by_role("region", name="What we hold about you")
    expect(held).to_contain_text("Enrolments")
    browsing.snap(page, "02-privacy-dashboard")
    page.get_by_role("button", name="Prepare my data").click()
    download_button = page.get_by_role("link", name="Download ZIP")
    expect(download_button).to_be_visible()
    browsing.snap(page, "03-export-ready")

    # The emailed link, opened while signed in, downloads the ZIP.
    link = _to_live_server(_link_in_last_email(bob.email, "ready"), browsing)
    with page.expect_download() as download:
        page.evaluate("url => { window.location.href = url; }", link)
    archive = tmp_path / "export.zip"
    download.value.save_as(archive)
    with zipfile.ZipFile(archive) as zipped:
        names = set(zipped.namelist())
        readme = json.loads(zipped.read("README.json"))
        zipped.extractall(tmp_path / "export")
    assert {"README.json", "index.html"} <= names
    described = set(readme["files"])
    assert {n for n in names if n.endswith(".json") and n != "README.json"} <= described
    enrolments = next(n for n in names if "enrol" in n and n.endswith(".json"))
    assert str(course.pk) in (tmp_path / "export" / enrolments).read_text()
    page.goto((tmp_path / "export" / "index.html").as_uri())
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    browsing.snap(page, "04-export-index")

    # Delete, then change one's mind through the emailed link.
    page.goto(browsing.url("/settings/privacy/"))
    _request_deletion(page, browsing, "05-delete-account")
    browsing.snap(page, "06-deletion-scheduled")
    bob.refresh_from_db()
    assert not bob.is_active
    cancel = _to_live_server(_link_in_last_email(bob.email, "delet"), browsing)
    page.goto(cancel)
    browsing.snap(page, "07-cancel-confirm")
    page.get_by_role("button", name="Cancel the deletion").click()
    bob.refresh_from_db()
    assert bob.is_active
    browsing.snap(page, "08-cancelled")

    # Delete again; with no cooling-off the next sweep erases the account.
    settings.ACCOUNT_DELETION_COOLING_OFF_DAYS = 0
    page.goto(browsing.url("/accounts/login/"))
    fill_login_form(page, bob.email, PASSWORD)
    _open_privacy_settings(page)
    _request_deletion(page, browsing, "09-delete-again")
    mail.outbox.clear()
    tasks.sweep_retention_task.apply()

    assert not User.objects.filter(pk=bob.pk).exists()
    states = sorted(DeletionRequest.objects.values_list("state", flat=True))
    assert states == [DeletionRequest.State.CANCELLED, DeletionRequest.State.COMPLETED]
    [receipt] = [m for m in mail.outbox if bob.email in m.to]
    assert "receipt" in receipt.subject.lower() or "deleted" in receipt.subject.lower()
    (ARTIFACTS / "test_privacy_flow-receipt.txt").write_text(str(receipt.body))

    browsing.allow(r"status of 40\d")
    page.goto(browsing.url("/accounts/login/"))
    fill_login_form(page, bob.email, PASSWORD)
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_role("alert").first).to_be_visible()
    browsing.snap(page, "10-deleted-cannot-log-in")
