"""Every main page passes axe-core's checks, in light and in dark, for each kind of visitor.

axe-core comes from npm (`scripts/vendor-static` copies it into static/vendor/) and
is loaded from Lectern's own origin, as the Content-Security-Policy requires. A page
fails on any violation axe rates serious or critical: low contrast, a field without a
label, a link without a name, a missing landmark and the like. One browser context per
role and scheme walks its pages in turn, so the whole run stays short.
"""

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Page

from accounts.models import User
from analytics.models import CourseDay
from billing.tests.kit import restore_default_catalogue
from courses.models import Course, CourseItem, Delivery
from courses.services import courses as course_services
from courses.services import enrolment as enrolment_services
from courses.services import work as work_services
from courses.tests.factories import CourseFactory, CourseItemFactory
from crm.models import Contact
from live.tests.kit import KEY, SECRET
from messaging import services as messaging_services
from notifications import services as notification_services
from privacy import export as privacy_export
from tests.base import PASSWORD
from tests.browser.kit import ARTIFACTS, fill_login_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SERIOUS = {"serious", "critical"}
SCHEMES = ["light", "dark"]
# Set to save a screenshot of every page checked, not only of those that fail.
SNAP_ALL = os.environ.get("LECTERN_A11Y_SCREENSHOTS") == "1"
RUN_AXE = """async () => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.map((n) => n.target.join(" ")),
  }));
}"""
# The live page asks for a camera and microphone: Chromium's stand-ins answer at once.
FAKE_MEDIA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


@dataclass(frozen=True)
class School:
    """The rows the pages show: one course with its items, work, messages and contacts."""

    slug: str
    handle: str
    assignment: CourseItem
    material: CourseItem
    session: CourseItem
    submission_id: int
    direct_id: int
    channel_id: int
    contact_id: int


@pytest.fixture(scope="module")
def browser(
    launch_browser: Callable[..., Browser], browser_type_launch_args: dict[str, Any]
) -> Iterator[Browser]:
    """Chromium with a fake camera and microphone, for the live page's device check."""
    browser = launch_browser(args=[*browser_type_launch_args["args"], *FAKE_MEDIA])
    yield browser
    browser.close()


@pytest.fixture(autouse=True)
def _axe_vendored() -> None:
    """Fail with the fix when axe-core was not copied from node_modules/ into static/vendor/."""
    vendored = Path(django_settings.BASE_DIR) / "static" / "vendor" / "axe.min.js"
    if not vendored.is_file():
        pytest.fail(f"{vendored} is missing: run `npm ci` and `scripts/vendor-static`.")


@pytest.fixture
def integrations_on(settings: Any) -> None:
    """Turn LiveKit and AI on (at ports nobody listens on): their pages show their real forms."""
    settings.LIVEKIT_URL = "ws://127.0.0.1:9"
    settings.LIVEKIT_API_KEY = KEY
    settings.LIVEKIT_API_SECRET = SECRET
    settings.AI_BASE_URL = "http://127.0.0.1:9/v1"
    settings.AI_API_KEY = "sk-test"
    settings.AI_MODEL = "small"


@pytest.fixture
def school(alice: User, bob: User, dave: User, integrations_on: None) -> School:
    restore_default_catalogue()  # the plans page lists them; a transactional test emptied it
    course = CourseFactory.create(
        teacher=alice,
        slug="watercolour",
        title="Watercolour from Scratch",
        organisation="Alice's Studio",
    )
    CourseItemFactory.create(course=course, announcement=True, title="Welcome, everyone")
    material = CourseItemFactory.create(course=course, material=True, title="Colour theory")
    assignment = CourseItemFactory.create(course=course, assignment=True, title="Colour wheel")
    session = CourseItemFactory.create(
        course=course,
        session=True,
        title="Mixing greens",
        delivery=Delivery.LIVE,
        meeting_url="",
        starts_at=timezone.now() + timedelta(minutes=5),
    )
    for student in (bob, dave):
        enrolment_services.enroll_student(course=course, student=student)
    submission = work_services.submit_work(
        item=assignment, student=bob, text="Twelve hues from three primaries.", uploads=[]
    )
    graded_item = CourseItemFactory.create(course=course, assignment=True, title="Tonal study")
    graded = work_services.submit_work(
        item=graded_item, student=bob, text="Five values of grey.", uploads=[]
    )
    work_services.grade_submission(
        submission=graded, grader=alice, points=8, feedback="Lovely.", return_to_student=True
    )
    direct = messaging_services.get_or_create_direct(user=bob, other=alice)
    messaging_services.post_message(conversation=direct, author=bob, body="Hello, **Alice**!")
    channel = messaging_services.get_or_create_channel(course=course)
    messaging_services.post_message(conversation=channel, author=alice, body="See you Tuesday.")
    for person in (alice, bob):
        notification_services.notify(
            recipient=person,
            kind="announcement",
            title="Welcome, everyone",
            url=reverse("courses:course", args=[course.slug]),
            course=course,
            dedupe_key=f"a11y-{person.pk}",
            email=False,
        )
    privacy_export.request_export(bob)
    course_services.ensure_teacher_handle(teacher=alice)
    seed_traffic(alice, course)
    contact = Contact.objects.filter(teacher=alice).order_by("pk").first()
    assert contact is not None, "Enrolling bob should have made him one of alice's contacts"
    alice.refresh_from_db()
    return School(
        slug=course.slug,
        handle=alice.handle or "",
        assignment=assignment,
        material=material,
        session=session,
        submission_id=submission.pk,
        direct_id=direct.pk,
        channel_id=channel.pk,
        contact_id=contact.pk,
    )


def seed_traffic(teacher: User, course: Course) -> None:
    """A fortnight of counted visits, so the Traffic pages draw their charts and tables."""
    today = timezone.localdate()
    for back in range(14):
        for source, referrer in (("newsletter", ""), ("", "instagram.com"), ("", "")):
            CourseDay.objects.create(
                teacher=teacher,
                course=course,
                day=today - timedelta(days=back),
                utm_source=source,
                referrer_domain=referrer,
                views=10 + back,
                visitors=6 + back // 2,
                clicks=3,
                registrations=1,
                enrolments=1 if back % 3 == 0 else 0,
            )


def visitor_pages(s: School) -> list[str]:
    pages = [
        reverse("home"),
        reverse("storefront:course", args=[s.slug]),
        reverse("courses:register", args=[s.slug]),
        reverse("account_login"),
        reverse("account_signup"),
        reverse("account_reset_password"),
        reverse("support:contact"),
        reverse("privacy_policy"),
        reverse("cookies"),
    ]
    if s.handle:
        pages.append(reverse("storefront:teacher_page", args=[s.handle]))
    return pages


def shared_pages() -> list[str]:
    """The pages every signed-in person has."""
    return [
        reverse("dashboard"),
        reverse("courses:calendar"),
        reverse("messaging:inbox"),
        reverse("notifications:list"),
        reverse("notifications:preferences"),
        reverse("privacy:dashboard"),
        reverse("privacy:delete_account"),
        reverse("accounts:profile"),
        reverse("accounts:preferences"),
        reverse("accounts:sessions"),
        reverse("support:help"),
        reverse("onboarding:welcome"),
    ]


def teacher_pages(s: School) -> list[str]:
    slug = [s.slug]
    return [
        *shared_pages(),
        reverse("courses:teach_course_new"),
        reverse("courses:teach_course", args=slug),
        reverse("courses:teach_course_edit", args=slug),
        reverse("courses:teach_item_edit", args=[s.slug, s.assignment.pk]),
        reverse("courses:teach_item_new", args=[s.slug, "assignment"]),
        reverse("courses:roster", args=slug),
        reverse("courses:grading", args=slug),
        reverse("courses:grade", args=[s.submission_id]),
        reverse("courses:gradebook", args=slug),
        reverse("courses:attendance_overview", args=slug),
        reverse("courses:attendance", args=[s.slug, s.session.pk]),
        reverse("courses:calendar_feed_settings"),
        reverse("messaging:conversation", args=[s.direct_id]),
        reverse("billing:plan"),
        reverse("billing:sales"),
        reverse("billing:coupons"),
        reverse("crm:list"),
        reverse("crm:contact", args=[s.contact_id]),
        reverse("crm:import"),
        reverse("analytics:traffic"),
        reverse("analytics:course_traffic", args=slug),
        reverse("live:room", args=[s.session.pk]),
        reverse("ai:draft_announcement", args=slug),
        reverse("ai:draft_questions", args=slug),
        reverse("ai:draft_recap", args=slug),
        reverse("ai:draft_feedback", args=[s.submission_id]),
        reverse("ai:usage", args=slug),
        reverse("storefront:course", args=slug),
    ]


def student_pages(s: School) -> list[str]:
    slug = [s.slug]
    return [
        *shared_pages(),
        reverse("courses:my_courses"),
        reverse("courses:course", args=slug),
        reverse("courses:item", args=[s.slug, s.assignment.pk]),
        reverse("courses:item", args=[s.slug, s.material.pk]),
        reverse("courses:my_grades", args=slug),
        reverse("courses:my_attendance", args=slug),
        reverse("messaging:conversation", args=[s.direct_id]),
        reverse("messaging:conversation", args=[s.channel_id]),
        reverse("billing:purchases"),
        reverse("live:room", args=[s.session.pk]),
        reverse("ai:assistant", args=slug),
        reverse("storefront:course", args=slug),
    ]


def open_context(
    browser: Browser, browser_context_args: dict[str, Any], base_url: str, scheme: str
) -> BrowserContext:
    context = browser.new_context(**{**browser_context_args, "color_scheme": scheme})
    context.add_cookies([{"name": "color_scheme", "value": scheme, "url": base_url}])
    context.set_default_timeout(10_000)
    return context


def sign_in(page: Page, base_url: str, user: User) -> None:
    page.goto(base_url + reverse("account_login"))
    fill_login_form(page, user.email, PASSWORD)
    page.wait_for_url(re.compile(r"/dashboard/$"))


def check_pages(page: Page, base_url: str, paths: list[str], label: str) -> list[str]:
    """Run axe on each page; return one line per serious or critical violation."""
    axe_url = base_url + static("vendor/axe.min.js")
    problems: list[str] = []
    for path in paths:
        response = page.goto(base_url + path)
        assert response is not None, f"{label} {path}: no response"
        assert response.ok, f"{label} {path}: HTTP {response.status}"
        page.add_script_tag(url=axe_url)
        found = [v for v in page.evaluate(RUN_AXE) if v["impact"] in SERIOUS]
        for violation in found:
            targets = ", ".join(violation["targets"][:6])
            more = len(violation["targets"]) - 6
            problems.append(
                f"{label} {path}: {violation['id']} ({violation['impact']}) "
                f"{violation['help']} → {targets}{f' (+{more} more)' if more > 0 else ''}"
            )
        if found or SNAP_ALL:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^\w]+", "-", f"{label}{path}").strip("-")
            page.screenshot(path=ARTIFACTS / f"a11y-{name}.png", full_page=True)
    page.goto("about:blank")
    return problems


def check_in_both_schemes(
    browser: Browser,
    context_args: dict[str, Any],
    base_url: str,
    role: str,
    person: User | None,
    paths: list[str],
) -> list[str]:
    """Walk `paths` as `person` (a visitor when None) in a light, then a dark, browser context."""
    problems: list[str] = []
    for scheme in SCHEMES:
        if person is not None:
            User.objects.filter(pk=person.pk).update(color_scheme=scheme)
        context = open_context(browser, context_args, base_url, scheme)
        try:
            page = context.new_page()
            if person is not None:
                sign_in(page, base_url, person)
            problems += check_pages(page, base_url, paths, f"{role}/{scheme}")
        finally:
            context.close()
    return problems


def assert_accessible(problems: list[str]) -> None:
    assert not problems, "axe-core found serious or critical violations:\n" + "\n".join(problems)


def test_a_visitors_pages_are_accessible(
    browser: Browser, browser_context_args: dict[str, Any], live_server: Any, school: School
) -> None:
    pages = visitor_pages(school)
    base = live_server.url
    assert_accessible(
        check_in_both_schemes(browser, browser_context_args, base, "visitor", None, pages)
    )


def test_a_teachers_pages_are_accessible(
    browser: Browser,
    browser_context_args: dict[str, Any],
    live_server: Any,
    school: School,
    alice: User,
) -> None:
    pages = teacher_pages(school)
    base = live_server.url
    assert_accessible(
        check_in_both_schemes(browser, browser_context_args, base, "teacher", alice, pages)
    )


def test_a_students_pages_are_accessible(
    browser: Browser,
    browser_context_args: dict[str, Any],
    live_server: Any,
    school: School,
    bob: User,
) -> None:
    pages = student_pages(school)
    base = live_server.url
    assert_accessible(
        check_in_both_schemes(browser, browser_context_args, base, "student", bob, pages)
    )
