"""Public pages: a course's storefront, its cover image and a teacher's page.

These are the most visited pages, so each is a fixed, small number of queries.
Anonymous visitors get a response shared caches may keep for a minute. The
course page a visitor sees is the same for every visitor: it holds no CSRF
token (its forms fetch one when they are sent) and nothing about the person
reading it, so it is kept whole in the cache, keyed by the course's
`updated_at` (every change to the course or its items moves it on) and its
seats taken; the one query left per visit reads those two. Signed-in people
get the page built for them, its costly part (rendered Markdown and the
sessions) shared from the cache.
"""

import hashlib
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import groupby
from typing import Any

from django.core.cache import cache
from django.db.models import F
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
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
from core import cache as shared_cache
from core.context_processors import site as site_context
from core.http import Request
from core.markdown import render_markdown
from courses import enrolment_policy
from courses.enrolment_policy import CourseFacts
from courses.models import Course, CourseItem, ItemKind, Visibility
from files import responses

PUBLIC_MAX_AGE = 60
FRAGMENT_TTL = 60
UPCOMING_SESSIONS = 12
TEACHER_PAGE_SESSIONS = 60
ENROL_BOX = "courses/enrolment/_enrol_box.html"
PAGE = "storefront/course.html"


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


def _public_cache(response: HttpResponse, request: Request, *, shareable: bool) -> HttpResponse:
    """Let shared caches keep an anonymous visitor's page briefly; keep others' private."""
    if shareable and not request.user.is_authenticated:
        patch_cache_control(response, public=True, max_age=PUBLIC_MAX_AGE)
    else:
        patch_cache_control(response, private=True, max_age=0)
    patch_vary_headers(response, ["Cookie"])
    return response


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
        "storefront/_course_main.html",
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


def page_facts(slug: str) -> CourseFacts | None:
    """Read what the cached page depends on: the enrolment policy's facts, in one query."""
    return enrolment_policy.read_facts(slug)


def _shared_page_key(request: Request, facts: CourseFacts) -> str:
    """Return the cache key of the whole page as every visitor sees it.

    The key moves with everything the page shows: the course and its items
    (`updated_at`), the seats taken, whether its teacher can take payments
    and whether their new paid enrolments are paused, and the visitor's
    colour scheme, language and host.
    """
    scheme = request.COOKIES.get("color_scheme", "system")
    if scheme not in ("light", "dark", "system"):
        scheme = "system"
    parts = ":".join(
        [
            str(facts.pk),
            str(facts.updated_at),
            str(facts.seats_taken),
            str(facts.teacher_can_sell),
            facts.teacher_paused,
            scheme,
            translation.get_language() or "",
            request.scheme or "http",
            request.get_host(),
        ]
    )
    # Hashed: the host and timestamp hold characters some cache backends refuse in keys.
    return f"storefront:page:v4:{facts.pk}:{hashlib.sha256(parts.encode()).hexdigest()}"


def _shared_page(request: Request, course: Course) -> str:
    """Render the page as any visitor sees it: no CSRF token, no messages, nobody signed in.

    Forms on it say where to fetch a token (`data-csrf-from`) instead of holding one.
    """
    context = _storefront_context(request, course)
    shared = {**site_context(request), "request": request, "user": request.user}
    return get_template(PAGE).render({**context, **shared, "messages": [], "csrf_token": ""})


def _load_course(slug: str) -> Course | None:
    return Course.objects.select_related("teacher").with_enrolment_facts().filter(slug=slug).first()


@require_safe
def storefront(request: Request, slug: str) -> HttpResponse:
    """Show a course's public page: what it is, when, who teaches it, the price and seats."""
    if not request.user.is_authenticated:
        return _visitor_storefront(request, slug)
    course = _load_course(slug)
    if course is None:
        raise Http404
    context = _storefront_context(request, course)
    if not context["answer"].reachable:
        raise Http404
    response = render(request, PAGE, context)
    return _public_cache(response, request, shareable=context["answer"].public_reachable)


def _visitor_storefront(request: Request, slug: str) -> HttpResponse:
    """Serve the page every visitor shares, from the cache when the course hasn't changed."""
    facts = page_facts(slug)
    if facts is None or not enrolment_policy.decide(facts).public_reachable:
        raise Http404
    if "messages" in request.COOKIES:
        # A message left for this visitor (after registering, say) is theirs alone.
        course = _load_course(slug)
        if course is None:
            raise Http404
        response = render(request, PAGE, _storefront_context(request, course))
        return _public_cache(response, request, shareable=False)
    # Query strings (campaign tags) are endless: such pages are built afresh, never kept.
    key = None if request.GET else _shared_page_key(request, facts)
    # The key comes from the database on every visit: a kept page is never out of date.
    html = shared_cache.get_near(key) if key else None
    if html is None:
        course = _load_course(slug)
        if course is None:
            raise Http404
        html = _shared_page(request, course)
        if key:
            shared_cache.keep_near(key, html, timeout=PUBLIC_MAX_AGE)
    return _public_cache(HttpResponse(html), request, shareable=True)


def _storefront_context(request: Request, course: Course) -> dict[str, Any]:
    answer = enrolment_policy.answer_for(request.user, course)
    course_zone = zone_named(course.timezone)
    zone = viewer_zone(request, course_zone)
    cover_url = (
        request.build_absolute_uri(reverse("storefront:cover", args=[course.slug]))
        + f"?v={course.cover_id}"
        if course.cover_id
        else ""
    )
    return {
        "course": course,
        "teacher": course.teacher,
        "answer": answer,
        "is_teacher": answer.offer == enrolment_policy.Offer.MANAGE,
        "main_html": _cached_course_main(request, course, zone),
        "seats_left": answer.seats_left,
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
    course = Course.objects.select_related("cover").with_enrolment_facts().filter(slug=slug).first()
    if course is None or course.cover is None:
        raise Http404
    reachable = enrolment_policy.decide(enrolment_policy.facts_for(course)).public_reachable
    is_teacher = request.user.is_authenticated and course.teacher_id == request.user.pk
    stored = course.cover
    if not (reachable or is_teacher) or not stored.content_type.startswith("image/"):
        raise Http404
    public = reachable and not is_teacher
    # A visible course's cover is the same for everyone; the teacher's preview of a
    # closed course's cover is not.
    cache_control = "public, max-age=3600" if public else "private, max-age=0"
    return responses.file_response(stored, inline=True, cache_control=cache_control)


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
        .with_enrolment_facts()
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
        answer = enrolment_policy.decide(enrolment_policy.facts_for(course))
        course.seats_left = answer.seats_left  # type: ignore[attr-defined]
    response = render(
        request,
        "storefront/teacher.html",
        {
            "teacher": teacher,
            "courses": courses,
            "agenda": agenda,
            "viewer_zone": zone.key,
            "page_url": request.build_absolute_uri(),
        },
    )
    return _public_cache(response, request, shareable=True)
