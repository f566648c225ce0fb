"""With a keyboard alone: a visitor registers for a course and a student hands in work.

Only Tab, Shift+Tab, Enter, Space and typing are used. At each step the test
checks which control holds the focus and that the focus can be seen: an outline,
or the focus ring form fields draw, never nothing.
"""

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from accounts.models import User
from courses.models import Course, CourseItem, Enrollment, Submission
from courses.tests.factories import CourseFactory, CourseItemFactory, EnrollmentFactory
from tests.base import PASSWORD
from tests.browser.kit import Browsing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "a fresh and long passphrase 42"
ANSWER = "Twelve hues from three primaries; the greens were muddy at first."
# Enough presses to pass a page's header and its content before a form; fewer means a trap.
MAX_TABS = 40
ACCEPT_BOX = re.compile(r"^I (have read and )?accept the ")

# Describe the focused element, and whether its focus is drawn. Form fields draw a ring
# (box-shadow) and keep a transparent outline for forced-colours mode; everything else
# draws an outline, on itself or on the card around it (`:has(:focus-visible)`).
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return {tag: "body", name: "", visible: false};
  const label = el.labels && el.labels[0] ? el.labels[0].textContent : "";
  const name = (el.getAttribute("aria-label") || label || el.textContent || el.value || "")
    .replace(/\\s+/g, " ").trim();
  const drawn = (s) => s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0
    && !/rgba\\(0, 0, 0, 0\\)|transparent/.test(s.outlineColor);
  let visible = el.matches(":focus-visible") && (drawn(getComputedStyle(el))
    || (el.matches("input, select, textarea") && getComputedStyle(el).boxShadow !== "none"));
  let node = el.parentElement;
  while (!visible && node && node !== document.body) {
    visible = drawn(getComputedStyle(node));
    node = node.parentElement;
  }
  return {tag: el.tagName.toLowerCase(), id: el.id, name, visible};
}"""


def focused(page: Page) -> dict[str, str | bool]:
    answer: dict[str, str | bool] = page.evaluate(FOCUSED)
    return answer


def assert_focus_on(page: Page, locator_name: str, expected: re.Pattern[str]) -> None:
    """Assert the focused control's accessible name matches `expected` and its focus shows."""
    now = focused(page)
    assert expected.search(str(now["name"])), f"Focus is on {now}, expected {locator_name}"
    assert now["visible"], f"{locator_name} has the focus but shows no focus style: {now}"


def tab_to(page: Page, label: str, target: re.Pattern[str], *, back: bool = False) -> int:
    """Press Tab (or Shift+Tab) until the control named `target` has the focus.

    Every control passed on the way must show its focus too. Return the presses taken.
    """
    key = "Shift+Tab" if back else "Tab"
    for presses in range(1, MAX_TABS + 1):
        page.keyboard.press(key)
        now = focused(page)
        if now["id"] == "main" and now["tag"] == "main":
            # Not a control: the browser put the focus on the page's `#main` target
            # itself (see skip_to_main), which Tab never stops on. Go on from there.
            continue
        assert now["visible"], f"On the way to {label}, focus is not visible on {now}"
        if target.search(str(now["name"])):
            return presses
    raise AssertionError(f"{label} not reached within {MAX_TABS} presses of {key}")


def skip_to_main(page: Page) -> None:
    """The first Tab shows the skip link; Enter moves the focus into the main content.

    A page reached by a redirect from one where the skip link was used keeps `#main`
    in its address: the browser then starts there already.
    """
    if page.url.endswith("#main"):
        page.wait_for_load_state("load")
        return
    page.keyboard.press("Tab")
    assert_focus_on(page, "the skip link", re.compile(r"^Skip to main content$"))
    expect(page.get_by_role("link", name="Skip to main content")).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def invitation_path() -> str:
    for message in mail.outbox:
        found = re.search(r"https?://\S+/join/\S+", str(message.body))
        if found:
            parts = urlsplit(found.group(0))
            return f"{parts.path}?{parts.query}" if parts.query else parts.path
    raise AssertionError("No invitation email was sent")


@pytest.fixture
def course(alice: User) -> Course:
    return CourseFactory.create(
        teacher=alice, slug="open-watercolour", title="Open Watercolour", capacity=12
    )


def test_a_visitor_registers_for_a_course_with_the_keyboard(
    watched_page: Page, browsing: Browsing, course: Course
) -> None:
    page = watched_page
    page.goto(browsing.url(f"/c/{course.slug}/"))
    skip_to_main(page)
    tab_to(page, "First name", re.compile(r"^First name$"))
    page.keyboard.type("Gina")
    page.keyboard.press("Tab")
    assert_focus_on(page, "Last name", re.compile(r"^Last name$"))
    page.keyboard.type("Guest")
    page.keyboard.press("Tab")
    assert_focus_on(page, "Email", re.compile(r"^Email$"))
    page.keyboard.type("gina@example.org")
    # Back and forth: Shift+Tab returns to the field before, Tab comes back.
    page.keyboard.press("Shift+Tab")
    assert_focus_on(page, "Last name", re.compile(r"^Last name$"))
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert_focus_on(page, "the register button", re.compile(r"^Register for free$"))
    browsing.snap(page, "01-register-button-focused")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Check your inbox")).to_be_visible()
    browsing.snap(page, "02-registered")

    # The invitation arrives by email; its link opens the page to choose a password.
    page.goto(browsing.url(invitation_path()))
    skip_to_main(page)
    tab_to(page, "Password", re.compile(r"^Password"))
    page.keyboard.type(NEW_PASSWORD)
    page.keyboard.press("Tab")
    assert_focus_on(page, "Repeat password", re.compile(r"^Repeat password"))
    page.keyboard.type(NEW_PASSWORD)
    page.keyboard.press("Tab")
    assert_focus_on(page, "the set-password button", re.compile(r"^Set password and open"))
    browsing.snap(page, "03-choose-password")
    page.keyboard.press("Enter")

    # A new account accepts the policies first: each box is ticked with Space.
    expect(page).to_have_url(re.compile(r"/policies/accept/"))
    skip_to_main(page)
    boxes = page.get_by_role("checkbox", name=ACCEPT_BOX)
    assert boxes.count() >= 2, "A new student accepts at least the terms and the privacy policy"
    for index in range(boxes.count()):
        tab_to(page, "a policy's box", ACCEPT_BOX)
        page.keyboard.press("Space")
        expect(boxes.nth(index)).to_be_checked()
    browsing.snap(page, "04-policies-ticked")
    tab_to(page, "Accept and continue", re.compile(r"^Accept and continue$"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/courses/{course.slug}/(#main)?$"))
    browsing.snap(page, "05-course-open")
    enrolment = Enrollment.objects.get(course=course, student__email="gina@example.org")
    assert enrolment.status == Enrollment.Status.ACTIVE


@pytest.fixture
def assignment(course: Course, bob: User) -> CourseItem:
    EnrollmentFactory.create(course=course, student=bob)
    return CourseItemFactory.create(course=course, assignment=True, title="Paint a colour wheel")


def test_a_student_hands_in_work_with_the_keyboard(
    watched_page: Page, browsing: Browsing, bob: User, course: Course, assignment: CourseItem
) -> None:
    page = watched_page
    page.goto(browsing.url("/accounts/login/"))
    skip_to_main(page)
    tab_to(page, "Email", re.compile(r"^Email$"))
    page.keyboard.type(bob.email)
    tab_to(page, "Password", re.compile(r"^Password$"))
    page.keyboard.type(PASSWORD)
    tab_to(page, "the log in button", re.compile(r"^(Log in|Sign in)$", re.IGNORECASE))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/dashboard/$"))

    page.goto(browsing.url(f"/courses/{course.slug}/"))
    skip_to_main(page)
    tab_to(page, "the assignment", re.compile(r"Paint a colour wheel"))
    browsing.snap(page, "01-assignment-link-focused")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/items/{assignment.pk}/$"))

    skip_to_main(page)
    tab_to(page, "the answer", re.compile(r"^Your answer"))
    page.keyboard.type(ANSWER)
    page.keyboard.press("Tab")
    assert_focus_on(page, "the files field", re.compile(r"^Files"))
    page.keyboard.press("Tab")
    assert_focus_on(page, "the submit button", re.compile(r"^Submit your work$"))
    browsing.snap(page, "02-submit-focused")
    # Space presses a button as Enter does.
    page.keyboard.press("Space")
    expect(page.locator("#submission").get_by_text("Submitted", exact=True)).to_be_visible()
    browsing.snap(page, "03-submitted")
    submission = Submission.objects.get(item=assignment, student=bob)
    assert submission.text == ANSWER
