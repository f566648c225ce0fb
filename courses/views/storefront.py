"""Public pages: a course's storefront, its cover image and a teacher's page.

These are the most visited pages, so each is a fixed, small number of queries.
Anonymous visitors get a response shared caches may keep for a minute. The
course page a visitor sees is kept whole in the cache, keyed by the course's
`updated_at` (every change to the course or its items moves it on) and its
seats taken, with the CSRF token left out and put back per response; the one
query left per visit reads those two. Signed-in people get the page built for
them, its costly part (rendered Markdown and the sessions) shared from the cache.
"""

import functools
import hashlib
import threading
import time
import zoneinfo
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import groupby
from typing import Any, cast

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, F, Field, IntegerField, Model, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.views.decorators.http import require_safe

from accounts.models import User
from core import storage
from core.context_processors import site as site_context
from core.http import Request
from core.markdown import render_markdown
from courses.access import get_enrollment
from courses.models import Course, CourseItem, Enrollment, ItemKind, Visibility, WaitlistEntry

PUBLIC_MAX_AGE = 60
FRAGMENT_TTL = 60
UPCOMING_SESSIONS = 12
TEACHER_PAGE_SESSIONS = 60
ENROL_BOX = "courses/enrolment/_enrol_box.html"
PAGE = "courses/storefront/course.html"


@dataclass(frozen=True)
class SessionTime:
    """A session with its start in the course's time zone and in the viewer's."""

    item: CourseItem
    course_start: datetime
    viewer_start: datetime
    course_end: datetime | None

    @property
    def zones_differ(self) -> bool:
        return self.course_start.utcoffset() != self.viewer_start.utcoffset()


def zone_named(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def viewer_zone(request: Request, fallback: zoneinfo.ZoneInfo) -> zoneinfo.ZoneInfo:
    """Return the signed-in person's time zone; for visitors, `fallback`."""
    if request.user.is_authenticated:
        return zone_named(request.user.timezone)
    return fallback


def session_times(
    items: list[CourseItem], course_zone: zoneinfo.ZoneInfo, zone: zoneinfo.ZoneInfo
) -> list[SessionTime]:
    return [
        SessionTime(
            item=item,
            course_start=timezone.localtime(item.starts_at, course_zone),
            viewer_start=timezone.localtime(item.starts_at, zone),
            course_end=timezone.localtime(item.ends_at, course_zone) if item.ends_at else None,
        )
        for item in items
        if item.starts_at is not None
    ]


def _seats_taken() -> Subquery:
    active = Enrollment.objects.filter(course=OuterRef("pk"), status=Enrollment.Status.ACTIVE)
    return Subquery(
        active.order_by().values("course").annotate(n=Count("pk")).values("n")[:1],
        output_field=IntegerField(),
    )


def _public_cache(response: HttpResponse, request: Request, *, shareable: bool) -> HttpResponse:
    """Let shared caches keep an anonymous visitor's page briefly; keep others' private."""
    if shareable and not request.user.is_authenticated:
        patch_cache_control(response, public=True, max_age=PUBLIC_MAX_AGE)
    else:
        patch_cache_control(response, private=True, max_age=0)
    patch_vary_headers(response, ["Cookie"])
    return response


def seats_left(course: Course) -> int | None:
    if course.capacity is None:
        return None
    return max(0, course.capacity - (getattr(course, "active_count", 0) or 0))


def _upcoming_sessions(course: Course) -> list[CourseItem]:
    return list(
        CourseItem.objects.filter(
            course=course,
            kind=ItemKind.SESSION,
            published=True,
            starts_at__gte=timezone.now() - timedelta(hours=1),
        ).order_by("starts_at", "pk")[:UPCOMING_SESSIONS]
    )


def _course_main(request: Request, course: Course, zone: zoneinfo.ZoneInfo) -> str:
    """Render the description and upcoming sessions of a course."""
    course_zone = zone_named(course.timezone)
    sessions = session_times(_upcoming_sessions(course), course_zone, zone)
    return render_to_string(
        "courses/storefront/_course_main.html",
        {
            "course": course,
            "description_html": render_markdown(course.description),
            "sessions": sessions,
            "course_zone": course_zone.key,
            "viewer_zone": zone.key,
        },
        request=None,
    )


def _cached_course_main(request: Request, course: Course, zone: zoneinfo.ZoneInfo) -> str:
    """Return the course's main column, from the cache for anonymous visitors."""
    if request.user.is_authenticated:
        return _course_main(request, course, zone)
    key = f"storefront:main:v1:{course.pk}:{course.updated_at.timestamp()}"
    html = cache.get(key)
    if html is None:
        html = _course_main(request, course, zone)
        cache.set(key, html, FRAGMENT_TTL)
    return html


def enrol_box_available() -> bool:
    """Say whether the enrolment area's box template is there to include."""
    try:
        get_template(ENROL_BOX)
    except TemplateDoesNotExist:
        return False
    return True


def og_description(course: Course) -> str:
    text = course.summary or strip_tags(render_markdown(course.description[:2000]))
    return Truncator(" ".join(text.split())).chars(200)


# Stands in for the CSRF token in a page cached for every visitor; each response
# gets the visitor's own token in its place.
CSRF_PLACEHOLDER = "csrf-token-placeholder-7d1e9b5c"


@dataclass(frozen=True)
class PageFacts:
    """What decides whether a visitor may see a course page and which cached copy is current."""

    pk: int
    updated_at: object
    visibility: str
    archived: bool
    seats_taken: int
    teacher_active: bool = True

    @property
    def reachable(self) -> bool:
        return (
            self.visibility in (Visibility.PUBLIC, Visibility.UNLISTED)
            and not self.archived
            and self.teacher_active
        )


def _column(model: type[Model], name: str) -> str:
    return str(cast(Field, model._meta.get_field(name)).column)


@functools.cache
def _facts_sql() -> str:
    course, enrollment = Course._meta.db_table, Enrollment._meta.db_table
    user = User._meta.db_table
    course_id = _column(Course, "id")
    # Only names from the models' own metadata are spliced in; values are parameters.
    return (
        f"SELECT c.{course_id}, c.{_column(Course, 'updated_at')}, "  # noqa: S608
        f"c.{_column(Course, 'visibility')}, c.{_column(Course, 'archived_at')}, "
        f"(SELECT COUNT(*) FROM {enrollment} e "
        f"WHERE e.{_column(Enrollment, 'course')} = c.{course_id} "
        f"AND e.{_column(Enrollment, 'status')} = %s), "
        f"(SELECT u.{_column(User, 'is_active')} FROM {user} u "
        f"WHERE u.{_column(User, 'id')} = c.{_column(Course, 'teacher')}) "
        f"FROM {course} c WHERE c.{_column(Course, 'slug')} = %s"
    )


def page_facts(slug: str) -> PageFacts | None:
    """Read the few facts the cached page depends on, in one small query.

    This runs on every visit to the most visited page, so it skips the ORM's
    query building and model loading, which cost several times the query itself.
    """
    with connection.cursor() as cursor:
        cursor.execute(_facts_sql(), [Enrollment.Status.ACTIVE, slug])
        row = cursor.fetchone()
    if row is None:
        return None
    pk, updated_at, visibility, archived_at, taken, teacher_active = row
    return PageFacts(
        pk, updated_at, visibility, archived_at is not None, taken, bool(teacher_active)
    )


def _shared_page_key(request: Request, facts: PageFacts) -> str | None:
    """Return the cache key of the whole page as any visitor sees it, or None if it can't be shared.

    The key moves with everything the page shows: the course and its items
    (`updated_at`), the seats taken, and the visitor's colour scheme, language
    and host. A page with a query string or a pending message is built afresh.
    """
    if request.user.is_authenticated or request.GET or "messages" in request.COOKIES:
        return None
    scheme = request.COOKIES.get("color_scheme", "system")
    if scheme not in ("light", "dark", "system"):
        scheme = "system"
    parts = ":".join(
        [
            str(facts.pk),
            str(facts.updated_at),
            str(facts.seats_taken),
            scheme,
            translation.get_language() or "",
            request.scheme or "http",
            request.get_host(),
        ]
    )
    # Hashed: the host and timestamp hold characters some cache backends refuse in keys.
    return f"storefront:page:v2:{facts.pk}:{hashlib.sha256(parts.encode()).hexdigest()}"


class _RecentPages:
    """The last few shared pages, kept in this process for a short while.

    The key comes from the database on every visit, so a kept page is never
    out of date with the course or its seats; the time limit bounds how long
    time-dependent parts (which sessions are upcoming) may lag, as the shared
    cache's own expiry does. Reading it here saves the round trip to the
    shared cache on the most visited page.
    """

    def __init__(self, size: int, ttl: float) -> None:
        self.size, self.ttl = size, ttl
        self._pages: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            kept = self._pages.get(key)
            if kept is None or kept[0] < time.monotonic():
                return None
            self._pages.move_to_end(key)
            return kept[1]

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()

    def put(self, key: str, html: str) -> None:
        with self._lock:
            self._pages[key] = (time.monotonic() + self.ttl, html)
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)


_recent_pages = _RecentPages(size=64, ttl=10)


def _cached_page(key: str) -> str | None:
    html = _recent_pages.get(key)
    if html is None:
        html = cache.get(key)
        if html is not None:
            _recent_pages.put(key, html)
    return html


def _shared_context(request: Request) -> dict[str, Any]:
    """Return what the context processors give a visitor, with the CSRF token held back."""
    return {
        **site_context(request),
        "request": request,
        "user": request.user,
        "messages": [],
        "csrf_token": CSRF_PLACEHOLDER,
    }


def _load_course(slug: str) -> Course | None:
    return (
        Course.objects.select_related("teacher")
        .annotate(active_count=Coalesce(_seats_taken(), 0))
        .filter(slug=slug)
        .first()
    )


@require_safe
def storefront(request: Request, slug: str) -> HttpResponse:
    """Show a course's public page: what it is, when, who teaches it, the price and seats."""
    if not request.user.is_authenticated:
        facts = page_facts(slug)
        if facts is None or not facts.reachable:
            raise Http404
        key = _shared_page_key(request, facts)
        html = _cached_page(key) if key else None
        if html is None:
            course = _load_course(slug)
            if course is None:
                raise Http404
            context = _storefront_context(request, course, is_teacher=False)
            if key is None:
                return _public_cache(render(request, PAGE, context), request, shareable=True)
            html = get_template(PAGE).render({**context, **_shared_context(request)})
            cache.set(key, html, PUBLIC_MAX_AGE)
            _recent_pages.put(key, html)
        response = HttpResponse(html.replace(CSRF_PLACEHOLDER, get_token(request)))
        return _public_cache(response, request, shareable=True)
    course = _load_course(slug)
    is_teacher = course is not None and course.teacher_id == request.user.pk
    reachable = (
        course is not None
        and course.visibility in (Visibility.PUBLIC, Visibility.UNLISTED)
        and course.archived_at is None
        and course.teacher.is_active
    )
    if course is None or not (reachable or is_teacher):
        raise Http404
    response = render(request, PAGE, _storefront_context(request, course, is_teacher))
    return _public_cache(response, request, shareable=reachable)


def _storefront_context(request: Request, course: Course, is_teacher: bool) -> dict[str, Any]:
    user = request.user
    course_zone = zone_named(course.timezone)
    zone = viewer_zone(request, course_zone)
    enrollment: Enrollment | None = None
    on_waitlist = False
    if user.is_authenticated and not is_teacher:
        enrollment = get_enrollment(user, course)
        if enrollment is None:
            on_waitlist = WaitlistEntry.objects.filter(course=course, student_id=user.pk).exists()
    cover_url = (
        request.build_absolute_uri(reverse("courses:cover", args=[course.slug]))
        + f"?v={course.cover_id}"
        if course.cover_id
        else ""
    )
    return {
        "course": course,
        "teacher": course.teacher,
        "is_teacher": is_teacher,
        "main_html": _cached_course_main(request, course, zone),
        "seats_left": seats_left(course),
        "enrollment": enrollment,
        "on_waitlist": on_waitlist,
        "course_zone": course_zone.key,
        "viewer_zone": zone.key,
        "zones_differ": _zones_differ(course_zone, zone),
        "page_url": request.build_absolute_uri(course.get_absolute_url()),
        "cover_url": cover_url,
        "og_description": og_description(course),
        "enrol_box": enrol_box_available(),
        "noindex": course.visibility != Visibility.PUBLIC or course.archived_at is not None,
    }


def _zones_differ(a: zoneinfo.ZoneInfo, b: zoneinfo.ZoneInfo) -> bool:
    now = timezone.now()
    return a.key != b.key and now.astimezone(a).utcoffset() != now.astimezone(b).utcoffset()


@require_safe
def cover(request: Request, slug: str) -> HttpResponseBase:
    """Stream a course's cover image to anyone who may see the course."""
    course = Course.objects.select_related("cover").filter(slug=slug).first()
    if course is None or course.cover is None:
        raise Http404
    reachable = (
        course.visibility in (Visibility.PUBLIC, Visibility.UNLISTED) and course.archived_at is None
    )
    is_teacher = request.user.is_authenticated and course.teacher_id == request.user.pk
    stored = course.cover
    if not (reachable or is_teacher) or not stored.content_type.startswith("image/"):
        raise Http404
    if not storage.is_local(stored.blob.storage):
        url = storage.signed_url(
            stored.blob,
            filename=stored.original_name,
            content_type=stored.content_type,
            inline=True,
        )
        redirect = HttpResponseRedirect(url)
        # The signed URL expires within a minute: never keep the redirect.
        redirect["Cache-Control"] = "no-store"
        return redirect
    try:
        blob = stored.blob.storage.open(stored.blob.name or "", "rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    response = FileResponse(blob, content_type=stored.content_type)
    response["Content-Disposition"] = "inline"
    if reachable and not is_teacher:
        patch_cache_control(response, public=True, max_age=3600)
    else:
        patch_cache_control(response, private=True, max_age=0)
    return response


@dataclass(frozen=True)
class AgendaDay:
    day: date
    sessions: list[SessionTime]


@require_safe
def teacher_page(request: Request, handle: str) -> HttpResponse:
    """Show a teacher's public courses and a calendar of their upcoming sessions."""
    teacher = User.objects.filter(handle=handle, is_active=True, is_teacher=True).first()
    if teacher is None:
        raise Http404
    courses = list(
        Course.objects.listed()
        .filter(teacher=teacher)
        .annotate(active_count=Coalesce(_seats_taken(), 0))
        .order_by(F("starts_on").asc(nulls_last=True), "-published_at", "pk")
    )
    by_id = {c.pk: c for c in courses}
    sessions = list(
        CourseItem.objects.filter(
            course__in=list(by_id),
            kind=ItemKind.SESSION,
            published=True,
            starts_at__gte=timezone.now() - timedelta(hours=1),
        ).order_by("starts_at", "pk")[:TEACHER_PAGE_SESSIONS]
        if by_id
        else []
    )
    zone = viewer_zone(request, zone_named(teacher.timezone))
    agenda: list[AgendaDay] = []
    timed: list[SessionTime] = []
    for item in sessions:
        item.course = by_id[item.course_id]
        course_zone = zone_named(item.course.timezone)
        timed.extend(session_times([item], course_zone, zone))
    for day, group in groupby(timed, key=lambda s: s.viewer_start.date()):
        agenda.append(AgendaDay(day=day, sessions=list(group)))
    for course in courses:
        course.seats_left = seats_left(course)  # type: ignore[attr-defined]
    response = render(
        request,
        "courses/storefront/teacher.html",
        {
            "teacher": teacher,
            "courses": courses,
            "agenda": agenda,
            "viewer_zone": zone.key,
            "page_url": request.build_absolute_uri(),
        },
    )
    return _public_cache(response, request, shareable=True)
