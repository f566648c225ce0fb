"""The capacity benchmark's evening as locust users: students and teachers with a channel open.

Each person does what their browser would: open the course channel, then
poll it with the ETag and URL the last answer gave (304 while idle), ask for
the header's unread badge on its own timer, and now and then open another
page. A few students and every teacher also post, with the CSRF token and
htmx headers the page's composer sends. Timers follow the page: the poll and
badge intervals are read from the `hx-trigger` the server rendered.

`bench/capacity.py` drives these users in steps and reports; `configure()`
must be called before any user starts. Requests are named by what they are
(poll, badge, page, post) so the statistics group by endpoint. Any answer
other than the expected 2xx/304 counts as a failure, redirects included.
"""

import itertools
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import gevent
import gevent.event
from locust import FastHttpUser, constant, task

from bench import capacity_pages as pages

USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) LecternCapacityBench/1.0"


@dataclass(frozen=True)
class Rates:
    """How often people do things besides polling, in seconds (posters_share: of students)."""

    page_seconds: float = 120.0
    student_post_seconds: float = 30.0
    teacher_post_seconds: float = 20.0
    posters_share: float = 0.01


@dataclass
class _Scenario:
    people: dict[str, Any] = field(default_factory=dict)
    rates: Rates = field(default_factory=Rates)
    students: itertools.count = field(default_factory=itertools.count)
    teachers: itertools.count = field(default_factory=itertools.count)


SCENARIO = _Scenario()


def configure(people: dict[str, Any], rates: Rates) -> None:
    """Hand the users the seeded people (bench/seed_capacity.py's output) and the rates."""
    SCENARIO.people = people
    SCENARIO.rates = rates
    SCENARIO.students = itertools.count()
    SCENARIO.teachers = itertools.count()


@dataclass
class _Person:
    """What one person's browser tab holds: its cookies, token and the next poll to send."""

    course: dict[str, Any]
    session_key: str
    posts_every: float | None
    csrf_token: str = ""
    csrf_cookie: str = ""
    poll_url: str = ""
    poll_etag: str = ""
    poll_seconds: float = 3.0
    badge_etag: str = ""
    badge_seconds: float = 15.0


class _ChannelOpen(FastHttpUser):
    """Someone with their course channel open in a tab, all evening."""

    abstract = True
    wait_time = constant(0)
    # Polls, badge, pages and posts overlap, as a browser's requests do.
    concurrency = 4

    me: _Person

    def on_start(self) -> None:
        self.me = self.identify()
        self.refresh = gevent.event.Event()
        self.open_channel()

    def identify(self) -> _Person:
        raise NotImplementedError

    @task
    def evening(self) -> None:
        loops = [gevent.spawn(self.poll_loop), gevent.spawn(self.badge_loop)]
        loops += [gevent.spawn(loop) for loop in self.other_loops()]
        try:
            gevent.joinall(loops, raise_error=True)
        finally:
            gevent.killall(loops)

    def other_loops(self) -> list:
        return [self.post_loop] if self.me.posts_every else []

    # --- Requests ------------------------------------------------------------------------

    def _headers(self, htmx: bool = False, **extra: str) -> dict[str, str]:
        cookies = f"{SCENARIO.people['session_cookie']}={self.me.session_key}"
        if self.me.csrf_cookie:
            cookies += f"; {SCENARIO.people['csrf_cookie']}={self.me.csrf_cookie}"
        headers = {"Cookie": cookies, "User-Agent": USER_AGENT}
        if htmx:
            headers.update({"HX-Request": "true", "HX-Current-URL": self.me.course["conversation"]})
        headers.update(extra)
        return headers

    def _get(self, url: str, name: str, expected: tuple[int, ...], **headers: str) -> Any:
        with self.client.get(
            url, name=name, headers=headers, allow_redirects=False, catch_response=True
        ) as response:
            self._judge(response, expected)
        return response

    def _judge(self, response: Any, expected: tuple[int, ...]) -> None:
        status = response.status_code
        if status in expected:
            response.success()
        elif status == 0:
            response.failure(f"no answer: {response.error!r}")
        else:
            where = response.headers.get("Location", "") if response.headers else ""
            response.failure(f"HTTP {status}" + (f" to {where}" if where else ""))

    def _remember_csrf_cookie(self, response: Any) -> None:
        for header in response.headers.getlist("Set-Cookie") if response.headers else []:
            name, _, rest = header.partition("=")
            if name.strip() == SCENARIO.people["csrf_cookie"]:
                self.me.csrf_cookie = rest.split(";", 1)[0]

    def open_channel(self) -> None:
        """Load the channel's page: the poller, the badge and the CSRF token come from it."""
        response = self._get(self.me.course["conversation"], "page", (200,), **self._headers())
        if response.status_code == 200:
            self._follow_page(response.text or "")
            self._remember_csrf_cookie(response)

    def _follow_page(self, page: str) -> None:
        poller = pages.polling_element(pages.POLLER, page)
        if poller:
            self.me.poll_url, self.me.poll_etag, self.me.poll_seconds = poller
        badge = pages.polling_element(pages.BADGE, page)
        if badge:
            _, self.me.badge_etag, seconds = badge
            self.me.badge_seconds = seconds or self.me.badge_seconds
        self.me.csrf_token = pages.csrf_token(page) or self.me.csrf_token

    def poll(self) -> bool:
        """Ask the channel for news; return whether the page changed (a new poller came)."""
        headers = self._headers(htmx=True, **{"HX-Trigger": "poller", "HX-Target": "poller"})
        if self.me.poll_etag:
            headers["If-None-Match"] = self.me.poll_etag
        response = self._get(self.me.poll_url, "poll", (200, 204, 304), **headers)
        if response.status_code == 200:
            self._follow_page(response.text or "")
            return True
        if response.status_code == 204 and response.headers.get("HX-Refresh"):
            self.open_channel()  # too much changed: htmx reloads the whole page
            return True
        return False

    def badge(self) -> bool:
        headers = self._headers(
            htmx=True, **{"HX-Trigger": "nav-unread", "HX-Target": "nav-unread"}
        )
        if self.me.badge_etag:
            headers["If-None-Match"] = self.me.badge_etag
        response = self._get(self.me.course["badge"], "badge", (200, 304), **headers)
        if response.status_code == 200:
            badge = pages.polling_element(pages.BADGE, response.text or "")
            if badge:
                self.me.badge_etag = badge[1]
            return True
        return False

    def post(self) -> None:
        """Send a message as the composer does: multipart, CSRF field and header, htmx headers."""
        boundary = uuid.uuid4().hex
        fields = {
            "csrfmiddlewaretoken": self.me.csrf_token,
            "body": f"{random.choice(LINES)} ({time.strftime('%H:%M:%S')})",
        }
        body = "".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
            for k, v in fields.items()
        )
        body += f"--{boundary}--\r\n"
        headers = self._headers(
            htmx=True,
            **{
                "X-CSRFToken": self.me.csrf_token,
                "Origin": self.host or "",
                "HX-Trigger": "composer",
                "HX-Target": "composer",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
        )
        with self.client.post(
            self.me.course["post"],
            name="post",
            data=body,
            headers=headers,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            self._judge(response, (200,))
        if response.status_code == 200:
            self.refresh.set()  # the answer's HX-Trigger: the poller asks at once

    # --- Timers --------------------------------------------------------------------------

    def poll_loop(self) -> None:
        """Poll every few seconds; a changed answer brings a new poller with a fresh timer.

        Like htmx's `every` with `hx-sync="this:drop"`, a tick that comes while a
        poll is still out is dropped rather than queued.
        """
        due = time.monotonic() + random.uniform(0, self.me.poll_seconds)
        while True:
            self.refresh.wait(timeout=max(0.0, due - time.monotonic()))
            self.refresh.clear()
            changed = self.poll()
            now = time.monotonic()
            if changed:
                due = now + self.me.poll_seconds
            while due <= now:
                due += self.me.poll_seconds

    def badge_loop(self) -> None:
        due = time.monotonic() + random.uniform(0, self.me.badge_seconds)
        while True:
            gevent.sleep(max(0.0, due - time.monotonic()))
            changed = self.badge()
            now = time.monotonic()
            due = now + self.me.badge_seconds if changed else max(due + self.me.badge_seconds, now)

    def post_loop(self) -> None:
        every = self.me.posts_every or 0.0
        gevent.sleep(random.uniform(0, every))
        while True:
            self.post()
            gevent.sleep(random.uniform(0.5, 1.5) * every)


class Teacher(_ChannelOpen):
    """A course's teacher: keeps the channel open and posts every `teacher_post_seconds`."""

    fixed_count = 0  # set by bench/capacity.py: one per course

    def identify(self) -> _Person:
        courses = SCENARIO.people["courses"]
        course = courses[next(SCENARIO.teachers) % len(courses)]
        return _Person(
            course=course,
            session_key=course["teacher"],
            posts_every=SCENARIO.rates.teacher_post_seconds,
        )


class Student(_ChannelOpen):
    """A student: channel open, a page now and then; one in `1 / posters_share` also posts."""

    def identify(self) -> _Person:
        courses = SCENARIO.people["courses"]
        n = next(SCENARIO.students)
        course = courses[n % len(courses)]
        index = n // len(courses)
        if index >= len(course["students"]):
            raise RuntimeError(f"only {len(course['students'])} students seeded per course")
        rates = SCENARIO.rates
        one_in = max(1, round(1 / rates.posters_share)) if rates.posters_share else 0
        posts = bool(one_in) and index % one_in == 0
        return _Person(
            course=course,
            session_key=course["students"][index],
            posts_every=rates.student_post_seconds if posts else None,
        )

    def other_loops(self) -> list:
        return [*super().other_loops(), self.page_loop]

    def page_loop(self) -> None:
        """Open another page now and then: the course page, the channel again, the dashboard."""
        while True:
            gevent.sleep(random.expovariate(1 / SCENARIO.rates.page_seconds))
            pages = [
                self.me.course["course_page"],
                self.me.course["conversation"],
                SCENARIO.people["dashboard"],
            ]
            url = random.choice(pages)
            if url == self.me.course["conversation"]:
                self.open_channel()
            else:
                self._get(url, "page", (200,), **self._headers())


LINES = [
    "Is the second layer meant to go on wet?",
    "Posted my swatch: the blue granulated a lot.",
    "Could you show the brush angle again?",
    "Thanks, that helped!",
    "Which paper weight are you using tonight?",
]
