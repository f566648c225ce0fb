"""The calendar page, personal events and the private ICS feed."""

import hashlib
import re
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.views.decorators.cache import never_cache
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)

from core.http import AuthedRequest
from core.ratelimit import Limit, client_ip, hit, too_many_requests
from courses import ics
from courses.forms.calendar import EventForm
from courses.models import CalendarFeed, PersonalEvent
from courses.services import calendar as services

AGENDA_DAYS = 60
FEED_PAST = timedelta(days=30)
FEED_FUTURE = timedelta(days=365)
# Calendar apps poll every few minutes to hours; these leave room for several
# devices per person while keeping a leaked address from being hammered.
_FEED_FETCHES = Limit("calendar_feed", count=60, window=600)
_FEED_FETCHES_PER_IP = Limit("calendar_feed_ip", count=300, window=600)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _bad_request(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "courses/calendar/bad_request.html", {"message": message}, status=400)


def _parse_month(value: str, today: date) -> date | None:
    if not value:
        return today.replace(day=1)
    match = _MONTH.match(value)
    if not match:
        return None
    year, month = int(match[1]), int(match[2])
    if not (1970 <= year <= 2200 and 1 <= month <= 12):
        return None
    return date(year, month, 1)


def _parse_day(value: str, today: date) -> date | None:
    if not value:
        return today
    if not _DAY.match(value):
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return day if 1970 <= day.year <= 2200 else None


def _shift_month(month: date, delta: int) -> date:
    index = month.year * 12 + month.month - 1 + delta
    return date(index // 12, index % 12 + 1, 1)


@login_required
@require_GET
def calendar(request: AuthedRequest) -> HttpResponse:
    """Show the month grid or the agenda, in the viewer's time zone."""
    tz = services.viewer_timezone(request.user)
    today = timezone.localdate(timezone=tz)
    view = request.GET.get("view", "month")
    context: dict[str, Any] = {"view": view, "today": today, "tz_name": tz.key}
    if view == "agenda":
        first = _parse_day(request.GET.get("start", ""), today)
        if first is None:
            return _bad_request(request, "The start day must look like 2026-11-05.")
        last = first + timedelta(days=AGENDA_DAYS - 1)
        entries = services.entries_for(
            request.user,
            start=services.start_of_day(first, tz),
            end=services.start_of_day(last + timedelta(days=1), tz),
        )
        context.update(
            days=services.agenda_days(entries, first, last, tz, today),
            first=first,
            last=last,
            earlier=first - timedelta(days=AGENDA_DAYS),
            later=last + timedelta(days=1),
            month=first.replace(day=1),
        )
        return render(request, "courses/calendar/agenda.html", context)
    if view != "month":
        return _bad_request(request, "Choose the month view or the agenda view.")
    month = _parse_month(request.GET.get("month", ""), today)
    if month is None:
        return _bad_request(request, "The month must look like 2026-11, between 1970 and 2200.")
    grid_start, grid_end = services.month_bounds(month)
    entries = services.entries_for(
        request.user,
        start=services.start_of_day(grid_start, tz),
        end=services.start_of_day(grid_end + timedelta(days=1), tz),
    )
    context.update(
        month=month,
        weeks=services.month_weeks(entries, month, tz, today),
        previous=_shift_month(month, -1),
        next=_shift_month(month, 1),
        is_this_month=month == today.replace(day=1),
        has_entries=bool(entries),
    )
    return render(request, "courses/calendar/month.html", context)


def _month_url(moment: Any, tz: Any) -> str:
    day = timezone.localtime(moment, tz).date()
    return f"{reverse('courses:calendar')}?month={day:%Y-%m}"


@login_required
@require_http_methods(["GET", "POST"])
def event_create(request: AuthedRequest) -> HttpResponse:
    """Add a personal event; ?date=2026-11-05 starts the form on that day."""
    tz = services.viewer_timezone(request.user)
    if request.method == "POST":
        form = EventForm(request.POST, tz=tz)
        if form.is_valid():
            event = services.create_event(owner=request.user, **form.cleaned_data)
            messages.success(request, f"“{event.title}” is on your calendar.")
            return redirect(_month_url(event.starts_at, tz))
        return render(
            request,
            "courses/calendar/event_form.html",
            {"form": form, "tz_name": tz.key},
            status=400,
        )
    day = _parse_day(request.GET.get("date", ""), timezone.localdate(timezone=tz))
    initial = {}
    if day is not None:
        starts = services.start_of_day(day, tz) + timedelta(hours=9)
        initial = {"starts_at": starts, "ends_at": starts + timedelta(hours=1)}
    form = EventForm(initial=initial, tz=tz)
    return render(request, "courses/calendar/event_form.html", {"form": form, "tz_name": tz.key})


@login_required
@require_http_methods(["GET", "POST"])
def event_edit(request: AuthedRequest, event_id: int) -> HttpResponse:
    """Change one of your own events; anyone else's is not found."""
    event = get_object_or_404(PersonalEvent, pk=event_id, owner_id=request.user.pk)
    tz = services.viewer_timezone(request.user)
    context: dict[str, Any] = {"event": event, "tz_name": tz.key}
    if request.method == "POST":
        form = EventForm(request.POST, tz=tz)
        if form.is_valid():
            services.update_event(event=event, fields=form.cleaned_data)
            messages.success(request, f"“{event.title}” is updated.")
            return redirect(_month_url(event.starts_at, tz))
        return render(
            request, "courses/calendar/event_form.html", {**context, "form": form}, status=400
        )
    form = EventForm(
        initial={f: getattr(event, f) for f in ("title", "starts_at", "ends_at", "notes")}, tz=tz
    )
    return render(request, "courses/calendar/event_form.html", {**context, "form": form})


@login_required
@require_POST
def event_delete(request: AuthedRequest, event_id: int) -> HttpResponse:
    event = get_object_or_404(PersonalEvent, pk=event_id, owner_id=request.user.pk)
    tz = services.viewer_timezone(request.user)
    back = _month_url(event.starts_at, tz)
    title = event.title
    services.delete_event(event=event)
    messages.success(request, f"“{title}” is removed from your calendar.")
    return redirect(back)


# --- The ICS feed ---------------------------------------------------------------------------


def _feed_url(request: HttpRequest, feed: CalendarFeed) -> str:
    return request.build_absolute_uri(reverse("courses:calendar_feed", args=[feed.token]))


def _uid_host(request: HttpRequest) -> str:
    """Return the host that makes UIDs unique; the configured one, so UIDs never drift."""
    return urlsplit(settings.SITE_URL).hostname or request.get_host().split(":")[0]


@login_required
@never_cache
@require_GET
def calendar_feed_settings(request: AuthedRequest) -> HttpResponse:
    """Show the private feed address and how to subscribe to it."""
    feed = services.get_or_create_feed(owner=request.user)
    url = _feed_url(request, feed)
    webcal = "webcal://" + url.split("://", 1)[1]
    name = f"{settings.SITE_NAME} — {request.user.get_full_name() or request.user.email}"
    return render(
        request,
        "courses/calendar/feed_settings.html",
        {
            "feed": feed,
            "feed_url": url,
            "webcal_url": webcal,
            "google_url": "https://calendar.google.com/calendar/r?cid=" + quote(webcal, safe=""),
            "outlook_url": (
                "https://outlook.live.com/calendar/0/addfromweb?url="
                + quote(url, safe="")
                + "&name="
                + quote(name, safe="")
            ),
            "is_local": urlsplit(url).hostname in {"localhost", "127.0.0.1", "::1"},
        },
    )


@login_required
@require_POST
def calendar_feed_regenerate(request: AuthedRequest) -> HttpResponse:
    """Give the feed a new address; calendars subscribed to the old one stop updating."""
    services.regenerate_feed(owner=request.user)
    messages.success(
        request,
        "Your calendar feed has a new address. The old one no longer works: "
        "subscribe again with the address below.",
    )
    return redirect("courses:calendar_feed_settings")


@require_safe
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """Serve a person's events as iCalendar to whoever holds the secret address."""
    for limit, key in ((_FEED_FETCHES, token[:64]), (_FEED_FETCHES_PER_IP, client_ip(request))):
        verdict = hit(limit, key)
        if not verdict.allowed:
            return too_many_requests(request, verdict.retry_after)
    feed = (
        CalendarFeed.objects.select_related("owner")
        .filter(token=token, owner__is_active=True)
        .first()
    )
    if feed is None:
        raise Http404
    owner = feed.owner
    now = timezone.now()
    entries = services.entries_for(
        owner, start=now - FEED_PAST, end=now + FEED_FUTURE, with_details=True
    )
    body = ics.build_calendar(
        entries,
        name=f"{settings.SITE_NAME} — {owner.get_full_name() or owner.email}",
        uid_host=_uid_host(request),
        base_url=request.build_absolute_uri("/").rstrip("/"),
    )
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    not_modified = get_conditional_response(request, etag=etag)
    response = not_modified or HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = "private, max-age=300"
    response["Content-Disposition"] = 'inline; filename="lectern.ics"'
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
