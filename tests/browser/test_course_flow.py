"""A free course end to end, in a real browser: build, publish, enrol, hand in, grade, subscribe.

alice builds and publishes a course with a session, an assignment and a file; bob finds its
page, enrols, downloads the file and hands in his work; alice grades it and returns it; bob
reads the grade; both subscribe to their calendar feed, which is fetched and parsed; alice
moves the session and bob's feed updates the same event.
"""

import re
import urllib.request
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import icalendar
import pytest
from django.utils import timezone
from playwright.sync_api import BrowserContext, Locator, Page, expect

from accounts.models import User
from files.tests.files_kit import PDF_BYTES
from tests.base import PASSWORD
from tests.browser.kit import Browsing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LogIn = Callable[[Page, str, str, str], None]

COURSE_ZONE = "America/New_York"
COURSE_TITLE = "Watercolour from Scratch"
SESSION_TITLE = "Live class: mixing greens"
ASSIGNMENT_TITLE = "Paint a colour wheel"
FILE_TITLE = "Colour theory notes"
ANSWER = "I mixed twelve hues from three primaries; the greens came out muddy at first."
FEEDBACK = "Lovely gradients. Try a cleaner yellow for brighter greens."
POINTS_POSSIBLE = 10
POINTS_AWARDED = 8

MANAGE_URL = re.compile(r"/teach/courses/([\w-]+)/$")


@dataclass(frozen=True)
class Plan:
    """When the course's session and deadline fall, in the course's own time zone."""

    session_day: date
    session_at: time
    due_day: date
    due_at: time

    @classmethod
    def from_today(cls) -> "Plan":
        today = timezone.localdate(timezone=zoneinfo.ZoneInfo(COURSE_ZONE))
        return cls(
            session_day=today + timedelta(days=3),
            session_at=time(18, 30),
            due_day=today + timedelta(days=5),
            due_at=time(17, 0),
        )

    @property
    def session_starts(self) -> datetime:
        return datetime.combine(self.session_day, self.session_at, zoneinfo.ZoneInfo(COURSE_ZONE))

    @property
    def due(self) -> datetime:
        return datetime.combine(self.due_day, self.due_at, zoneinfo.ZoneInfo(COURSE_ZONE))


def test_it_runs_a_free_course_end_to_end(
    watched_page: Page,
    browsing: Browsing,
    alice: User,
    bob: User,
    new_context: Callable[..., BrowserContext],
    log_in: LogIn,
    tmp_path: Path,
) -> None:
    plan = Plan.from_today()
    teacher = watched_page
    log_in(teacher, alice.email, PASSWORD, "01-alice-login")
    slug = build_and_publish_course(teacher, browsing, plan)

    student = browsing.watch(new_context().new_page())
    log_in(student, bob.email, PASSWORD, "10-bob-login")
    enrol_and_download(student, browsing, slug)
    hand_in(student, browsing, tmp_path)

    grade_and_return(teacher, browsing)
    read_grade(student, browsing, slug)

    alice_feed = subscribe(teacher, browsing, "30-alice")
    bob_feed = subscribe(student, browsing, "40-bob")
    check_feeds(alice_feed, bob_feed, browsing, plan)

    move_session(teacher, browsing, time(19, 15))
    check_moved_session(bob_feed, plan, time(19, 15))


# --- alice builds the course -----------------------------------------------------------------


def build_and_publish_course(page: Page, browsing: Browsing, plan: Plan) -> str:
    """Create the course from the dashboard, add its three items and publish it; return its slug."""
    main = page.get_by_role("main")
    browsing.snap(page, "02-alice-dashboard")
    main.get_by_role("link", name="New course").click()
    expect(page.get_by_role("heading", name="Create a course")).to_be_visible()
    page.get_by_label("Title", exact=True).fill(COURSE_TITLE)
    page.get_by_label(re.compile(r"^\s*Description")).fill(
        "Learn to **mix colours** and paint loose, luminous washes.\n\n"
        "- four live classes\n- weekly exercises with feedback"
    )
    page.get_by_label("Course time zone").select_option(COURSE_ZONE)
    browsing.snap(page, "03-alice-new-course")
    page.get_by_role("button", name="Create course").click()

    expect(page).to_have_url(MANAGE_URL)
    match = MANAGE_URL.search(page.url)
    assert match is not None
    slug = match[1]
    expect(page.get_by_role("heading", name=COURSE_TITLE, level=1)).to_be_visible()
    browsing.snap(page, "04-alice-course-empty")

    add_item(page, "Session")
    page.get_by_label("Title", exact=True).fill(SESSION_TITLE)
    page.get_by_label("Date", exact=True).fill(plan.session_day.isoformat())
    page.get_by_label("Start time").fill(plan.session_at.strftime("%H:%M"))
    page.get_by_label(re.compile(r"^\s*Duration")).fill("90")
    page.get_by_label(re.compile(r"^\s*Meeting link")).fill("https://meet.google.com/abc-defg-hij")
    browsing.snap(page, "05-alice-new-session")
    page.get_by_role("button", name="Add session").click()
    expect(item_row(page, SESSION_TITLE)).to_be_visible()

    add_item(page, "Assignment")
    page.get_by_label("Title", exact=True).fill(ASSIGNMENT_TITLE)
    page.get_by_label(re.compile(r"^\s*Instructions")).fill(
        "Paint a twelve-part colour wheel from three primaries and upload a photo or a scan."
    )
    page.get_by_label(re.compile(r"^\s*Due date")).fill(plan.due_day.isoformat())
    page.get_by_label(re.compile(r"^\s*Due time")).fill(plan.due_at.strftime("%H:%M"))
    page.get_by_label(re.compile(r"^\s*Points")).fill(str(POINTS_POSSIBLE))
    browsing.snap(page, "06-alice-new-assignment")
    page.get_by_role("button", name="Add assignment").click()
    expect(item_row(page, ASSIGNMENT_TITLE)).to_be_visible()

    add_item(page, "File")
    page.get_by_label("Title", exact=True).fill(FILE_TITLE)
    page.get_by_label("File", exact=True).set_input_files(
        {"name": "colour-theory.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}
    )
    page.get_by_label(re.compile(r"^\s*Description")).fill("Read before the first class.")
    browsing.snap(page, "07-alice-new-file")
    page.get_by_role("button", name="Add file").click()
    expect(item_row(page, FILE_TITLE)).to_be_visible()

    # Each item shows its time in the course's zone, as entered.
    expect(item_row(page, SESSION_TITLE)).to_contain_text(plan.session_starts.strftime("%H:%M"))
    expect(item_row(page, ASSIGNMENT_TITLE)).to_contain_text(plan.due.strftime("%H:%M"))
    browsing.snap(page, "08-alice-course-items")

    page.get_by_role("button", name="Publish course").click()
    expect(page.get_by_role("button", name="Back to draft")).to_be_visible()
    browsing.snap(page, "09-alice-course-published")
    return slug


def add_item(page: Page, kind: str) -> None:
    """Open the form for a new item of `kind` from the course's management page."""
    adder = page.get_by_role("region", name="Add to the course")
    adder.get_by_role("link", name=re.compile(rf"^\s*{kind}\b")).click()
    expect(page.get_by_role("heading", name=f"New {kind.lower()}", level=1)).to_be_visible()


def item_row(page: Page, title: str) -> Locator:
    content = page.get_by_role("region", name="Course content")
    return content.get_by_role("listitem").filter(
        has=page.get_by_role("link", name=title, exact=True)
    )


# --- bob enrols and works --------------------------------------------------------------------


def enrol_and_download(page: Page, browsing: Browsing, slug: str) -> None:
    """Open the storefront, enrol in one click, and download the course's file."""
    page.goto(browsing.url(f"/c/{slug}/"))
    expect(page.get_by_role("heading", name=COURSE_TITLE, level=1)).to_be_visible()
    expect(page.get_by_role("region", name="Price and seats")).to_contain_text("Free")
    browsing.snap(page, "11-bob-storefront")
    page.get_by_role("button", name="Enrol", exact=True).click()

    expect(page).to_have_url(re.compile(rf"/courses/{slug}/$"))
    expect(page.get_by_text(f"You're enrolled in {COURSE_TITLE}")).to_be_visible()
    content = page.get_by_role("region", name="Course content")
    for title in (SESSION_TITLE, ASSIGNMENT_TITLE, FILE_TITLE):
        expect(content.get_by_role("link", name=title, exact=True)).to_be_visible()
    browsing.snap(page, "12-bob-course")

    content.get_by_role("link", name=FILE_TITLE, exact=True).click()
    expect(page.get_by_role("heading", name=FILE_TITLE, level=1)).to_be_visible()
    browsing.snap(page, "13-bob-file")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download").click()
    download = download_info.value
    assert download.suggested_filename == "colour-theory.pdf"
    assert Path(download.path()).read_bytes() == PDF_BYTES


def hand_in(page: Page, browsing: Browsing, tmp_path: Path) -> None:
    """Open the assignment from the course page and send text and a file."""
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name=COURSE_TITLE).click()
    content = page.get_by_role("region", name="Course content")
    content.get_by_role("link", name=ASSIGNMENT_TITLE, exact=True).click()
    expect(page.get_by_role("heading", name=ASSIGNMENT_TITLE, level=1)).to_be_visible()
    browsing.snap(page, "14-bob-assignment")

    work = page.get_by_role("region", name="Your work")
    work.get_by_label(re.compile(r"^\s*Your answer")).fill(ANSWER)
    scan = tmp_path / "colour-wheel.pdf"
    scan.write_bytes(PDF_BYTES)
    work.get_by_label(re.compile(r"^\s*Files")).set_input_files(scan)
    work.get_by_role("button", name="Submit your work").click()

    expect(work.get_by_text("Submitted", exact=True)).to_be_visible()
    expect(work.get_by_role("paragraph").filter(has_text=ANSWER)).to_be_visible()
    expect(work.get_by_role("link", name="colour-wheel.pdf")).to_be_visible()
    browsing.snap(page, "15-bob-submitted")


# --- alice grades ----------------------------------------------------------------------------


def grade_and_return(page: Page, browsing: Browsing) -> None:
    """Go from the dashboard to the grading queue, grade bob's work and return it."""
    page.get_by_role("banner").get_by_role("link", name="Dashboard").click()
    courses = page.get_by_role("region", name="Your courses")
    row = courses.get_by_role("row").filter(has_text=COURSE_TITLE)
    expect(row).to_contain_text("1 to grade")
    browsing.snap(page, "20-alice-dashboard-to-grade")
    row.get_by_role("link", name="1 to grade").click()

    expect(page.get_by_role("heading", name="Grading", level=1)).to_be_visible()
    queued = page.get_by_role("row").filter(has_text="Bob Baker")
    expect(queued).to_contain_text(ASSIGNMENT_TITLE)
    expect(queued).to_contain_text("To grade")
    browsing.snap(page, "21-alice-grading-queue")
    queued.get_by_role("link", name=re.compile(r"^\s*Grade\b")).click()

    expect(page.get_by_role("heading", name="Bob Baker", level=1)).to_be_visible()
    expect(page.get_by_text(ANSWER)).to_be_visible()
    expect(page.get_by_role("link", name="colour-wheel.pdf")).to_be_visible()
    page.get_by_label("Points", exact=True).fill(str(POINTS_AWARDED))
    page.get_by_label(re.compile(r"^\s*Feedback")).fill(FEEDBACK)
    browsing.snap(page, "22-alice-grade")
    page.get_by_role("button", name="Save and return to student").click()

    expect(page.get_by_text("Grade returned to Bob Baker.")).to_be_visible()
    returned = page.get_by_role("row").filter(has_text="Bob Baker")
    expect(returned).to_contain_text(f"Returned: {POINTS_AWARDED}")
    browsing.snap(page, "23-alice-grade-returned")


# --- bob reads his grade ---------------------------------------------------------------------


def read_grade(page: Page, browsing: Browsing, slug: str) -> None:
    """See the returned grade and feedback on the assignment and in the course's grades."""
    page.reload()
    grade = page.get_by_label("Your grade")
    expect(grade).to_contain_text(f"{POINTS_AWARDED}")
    expect(grade).to_contain_text(f"/ {POINTS_POSSIBLE} points")
    expect(grade).to_contain_text(FEEDBACK)
    browsing.snap(page, "24-bob-assignment-graded")

    page.goto(browsing.url(f"/courses/{slug}/grades/"))
    expect(page.get_by_role("heading", name="Your grades", level=1)).to_be_visible()
    graded = page.get_by_role("listitem").filter(has_text=ASSIGNMENT_TITLE)
    expect(graded).to_contain_text(f"{POINTS_AWARDED} / {POINTS_POSSIBLE}")
    expect(graded).to_contain_text(FEEDBACK)
    browsing.snap(page, "25-bob-grades")


# --- both subscribe to their calendar --------------------------------------------------------


def subscribe(page: Page, browsing: Browsing, step: str) -> tuple[str, icalendar.Calendar]:
    """Open Calendar → Subscribe, read the private feed address, fetch and parse it."""
    page.get_by_role("banner").get_by_role("link", name="Calendar").click()
    expect(page.get_by_role("navigation", name="Calendar views")).to_be_visible()
    browsing.snap(page, f"{step}-calendar")
    page.get_by_role("link", name="Subscribe").click()
    expect(page.get_by_role("heading", name="Subscribe to your calendar")).to_be_visible()
    browsing.snap(page, f"{step}-feed-settings")
    url = page.get_by_label("Calendar feed address (iCalendar)").input_value()
    assert url.startswith(browsing.base_url), url
    assert url.endswith(".ics"), url
    return url, fetch_calendar(url)


def fetch_calendar(url: str) -> icalendar.Calendar:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        assert response.headers.get_content_type() == "text/calendar"
        return icalendar.Calendar.from_ical(response.read())


def events_by_summary(calendar: icalendar.Calendar) -> dict[str, icalendar.Component]:
    return {str(event["SUMMARY"]): event for event in calendar.walk("VEVENT")}


def check_feeds(
    alice_feed: tuple[str, icalendar.Calendar],
    bob_feed: tuple[str, icalendar.Calendar],
    browsing: Browsing,
    plan: Plan,
) -> None:
    """Both feeds hold the session at its instant; bob's also holds the deadline; UIDs hold."""
    alice_url, alice_calendar = alice_feed
    bob_url, bob_calendar = bob_feed
    assert alice_url != bob_url
    session_summary = f"{SESSION_TITLE} — {COURSE_TITLE}"
    due_summary = f"Due: {ASSIGNMENT_TITLE} — {COURSE_TITLE}"

    alice_events = events_by_summary(alice_calendar)
    assert session_summary in alice_events, sorted(alice_events)
    alice_session = alice_events[session_summary]
    assert alice_session.decoded("DTSTART") == plan.session_starts
    assert alice_session.decoded("DTEND") == plan.session_starts + timedelta(minutes=90)
    assert str(alice_session["LOCATION"]) == "https://meet.google.com/abc-defg-hij"

    bob_events = events_by_summary(bob_calendar)
    assert {session_summary, due_summary} <= set(bob_events), sorted(bob_events)
    bob_session, bob_due = bob_events[session_summary], bob_events[due_summary]
    assert bob_session.decoded("DTSTART") == plan.session_starts
    assert bob_due.decoded("DTSTART") == plan.due
    assert str(bob_session["UID"]) == str(alice_session["UID"])
    assert str(bob_session["UID"]) != str(bob_due["UID"])

    # Fetched again, every event keeps its UID: calendar apps update rather than duplicate.
    for url, calendar in ((alice_url, alice_calendar), (bob_url, bob_calendar)):
        again = fetch_calendar(url)
        assert uids(again) == uids(calendar)
    browsing.assert_no_errors()


def uids(calendar: icalendar.Calendar) -> dict[str, str]:
    return {str(event["SUMMARY"]): str(event["UID"]) for event in calendar.walk("VEVENT")}


# --- alice moves the session; the feed updates the same event -------------------------------


def move_session(page: Page, browsing: Browsing, new_start: time) -> None:
    """Open the session from the teacher's dashboard and change its start time."""
    page.get_by_role("banner").get_by_role("link", name="Dashboard").click()
    page.get_by_role("region", name="Your courses").get_by_role("link", name=COURSE_TITLE).click()
    content = page.get_by_role("region", name="Course content")
    content.get_by_role("link", name=SESSION_TITLE, exact=True).click()
    expect(page.get_by_role("heading", name=SESSION_TITLE, level=1)).to_be_visible()
    page.get_by_label("Start time").fill(new_start.strftime("%H:%M"))
    browsing.snap(page, "50-alice-edit-session")
    page.get_by_role("button", name="Save changes").click()
    expect(item_row(page, SESSION_TITLE)).to_contain_text(new_start.strftime("%H:%M"))
    browsing.snap(page, "51-alice-session-moved")


def check_moved_session(
    bob_feed: tuple[str, icalendar.Calendar], plan: Plan, new_start: time
) -> None:
    """The moved session keeps its UID, with the new start and a higher SEQUENCE."""
    url, before = bob_feed
    summary = f"{SESSION_TITLE} — {COURSE_TITLE}"
    old = events_by_summary(before)[summary]
    new = events_by_summary(fetch_calendar(url))[summary]
    assert str(new["UID"]) == str(old["UID"])
    moved = datetime.combine(plan.session_day, new_start, zoneinfo.ZoneInfo(COURSE_ZONE))
    assert new.decoded("DTSTART") == moved
    assert new.decoded("SEQUENCE") > old.decoded("SEQUENCE")
