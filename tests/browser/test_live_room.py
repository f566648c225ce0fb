"""The teacher and a student open a live class whose server can't be reached.

Chromium stands in fake camera and microphone devices, and LIVEKIT_URL points
at a port where nothing listens: the page checks the devices, gets a token
from Lectern, tries the live server and says it can't reach it, with Retry.
"""

import re
import socket
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Page, expect

from accounts.models import User
from courses.models import CourseItem, Delivery, Enrollment
from courses.tests.factories import CourseFactory, CourseItemFactory
from live.tests.kit import KEY, SECRET
from tests.base import PASSWORD
from tests.browser.kit import Browsing, snap_everywhere, snap_light_and_dark, snap_on_a_phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FAKE_MEDIA = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    # The microphone level is read through Web Audio, which may otherwise wait for a click.
    "--autoplay-policy=no-user-gesture-required",
]
# Time for the page to give up on the server, with room to spare for a slow machine.
GIVES_UP_WITHIN_MS = 20_000
TOKEN_URL = re.compile(r"/live/\d+/token/$")
# Counts the page's requests for a camera or microphone, passing each one on.
COUNT_DEVICE_REQUESTS = """
window.deviceRequests = 0;
if (navigator.mediaDevices) {
  const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = (constraints) => {
    window.deviceRequests += 1;
    return getUserMedia(constraints);
  };
}
"""
PREVIEW_IS_LIVE = """() => {
  const video = document.querySelector("[data-preview]");
  return Boolean(video && video.srcObject && video.srcObject.active && video.videoWidth > 0);
}"""


@pytest.fixture(scope="module")
def browser(
    launch_browser: Callable[..., Browser], browser_type_launch_args: dict[str, Any]
) -> Iterator[Browser]:
    """Chromium with fake camera and microphone devices, granted without asking."""
    browser = launch_browser(args=[*browser_type_launch_args["args"], *FAKE_MEDIA])
    yield browser
    browser.close()


@pytest.fixture
def unreachable_livekit(settings: Any) -> str:
    """Configure LiveKit at a local port nobody listens on; return its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"ws://127.0.0.1:{port}"
    settings.LIVEKIT_URL = url
    settings.LIVEKIT_API_KEY = KEY
    settings.LIVEKIT_API_SECRET = SECRET
    # What config/settings.py adds when LiveKit is configured at start-up.
    csp = dict(settings.SECURE_CSP)
    csp["connect-src"] = [*csp["connect-src"], url, f"http://127.0.0.1:{port}"]
    settings.SECURE_CSP = csp
    return url


@pytest.fixture
def live_session(alice: User, bob: User) -> CourseItem:
    course = CourseFactory.create(teacher=alice, title="Spanish for travellers")
    Enrollment.objects.create(course=course, student=bob)
    return CourseItemFactory.create(
        course=course,
        session=True,
        title="Ordering at a restaurant",
        delivery=Delivery.LIVE,
        starts_at=timezone.now() + timedelta(minutes=5),
        duration_minutes=60,
    )


def allow_the_refused_connection(browsing: Browsing, url: str) -> None:
    """Chromium logs the refused connection itself: the one error this test expects."""
    browsing.allow(re.escape(url))
    browsing.allow(r"net::ERR_CONNECTION_REFUSED")


def join_and_give_up(page: Page, server: str) -> None:
    """Press the join button; the token comes, the server doesn't, and the page says so."""
    with page.expect_response(TOKEN_URL) as token:
        page.get_by_role("button", name=re.compile(r"^\s*Join (the class|as listener)")).click()
    assert token.value.status == 200
    assert token.value.request.method == "POST"
    assert set(token.value.json()) == {"url", "token", "room"}
    unreachable = page.get_by_role("heading", name="Can't reach the live server")
    expect(unreachable).to_be_visible(timeout=GIVES_UP_WITHIN_MS)
    expect(page.get_by_role("button", name="Retry")).to_be_visible()
    expect(page.get_by_text(f"Connecting to {server} failed")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Can't reach the live server.")


def test_the_teacher_and_a_student_cannot_reach_the_server_and_are_told_so(
    watched_page: Page,
    browsing: Browsing,
    alice: User,
    bob: User,
    live_session: CourseItem,
    unreachable_livekit: str,
    new_context: Callable[..., BrowserContext],
    log_in: Callable[[Page, str, str, str], None],
) -> None:
    allow_the_refused_connection(browsing, unreachable_livekit)
    room_url = browsing.url(f"/live/{live_session.pk}/")
    teacher = watched_page
    student = browsing.watch(new_context().new_page())
    student.add_init_script(script=COUNT_DEVICE_REQUESTS)
    log_in(teacher, alice.email, PASSWORD, "01-teacher-login")
    log_in(student, bob.email, PASSWORD, "02-student-login")

    teacher.goto(room_url)
    expect(teacher.get_by_role("heading", name="Check your camera and microphone")).to_be_visible()
    teacher.wait_for_function(PREVIEW_IS_LIVE)
    expect(teacher.get_by_label("Camera", exact=True)).to_be_enabled()
    expect(teacher.get_by_label("Microphone", exact=True)).to_be_enabled()
    expect(teacher.get_by_text("Your microphone works.")).to_be_visible()
    expect(teacher.get_by_label("Join with my camera on")).to_be_checked()
    snap_everywhere(teacher, browsing, "03-teacher-device-check")

    student.goto(room_url)
    expect(student.get_by_role("heading", name="Join as a listener")).to_be_visible()
    expect(student.locator("video")).to_have_count(0)
    snap_light_and_dark(student, browsing, "04-student-listener")

    join_and_give_up(teacher, unreachable_livekit)
    snap_everywhere(teacher, browsing, "05-teacher-unreachable")
    join_and_give_up(student, unreachable_livekit)
    snap_on_a_phone(student, browsing, "06-student-unreachable-phone")
    assert student.evaluate("window.deviceRequests") == 0

    with teacher.expect_response(TOKEN_URL) as again:
        teacher.get_by_role("button", name="Retry").click()
    assert again.value.status == 200
    expect(teacher.get_by_role("heading", name="Can't reach the live server")).to_be_visible(
        timeout=GIVES_UP_WITHIN_MS
    )
    student.goto("about:blank")
