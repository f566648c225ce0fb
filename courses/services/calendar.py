"""The calendar: personal events, course-derived events and the private feed address.

One list of `CalendarEntry` feeds the month view, the agenda and the ICS feed, so
the three always agree. Entries come from two queries whatever their number:
personal events, and the sessions and due dates of courses the person teaches
or is actively enrolled in (published ones only for students).
"""

import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from courses.models import (
    CalendarFeed,
    CourseItem,
    Delivery,
    Enrollment,
    ItemKind,
    PersonalEvent,
)
from courses.models.calendar import new_feed_token

SESSION = "session"
DUE = "due"
EVENT = "event"

# Sessions are found by their start; one that began this long before a window
# may still run into it.
_LONGEST_SESSION = timedelta(days=1)
# A personal event spanning weeks is listed on at most this many days.
_MAX_DAYS_SHOWN = 62

# Where an item's page lives, by who is looking; when a page name is missing, the next
# in line is used, so a link never breaks the calendar.
_TEACHER_ITEM_PAGES: tuple[tuple[str, str], ...] = (
    ("courses:teach_item_edit", "item"),
    ("courses:teach_course", "course"),
)
_MEMBER_ITEM_PAGES: tuple[tuple[str, str], ...] = (
    ("courses:item", "item"),
    ("courses:course", "course"),
    ("storefront:course", "course"),
)

# A live session's room, the place it takes place in.
_LIVE_ROOM_PAGE = "live:room"


@dataclass(frozen=True)
class CalendarEntry:
    """One thing on someone's calendar, whatever it comes from."""

    kind: str  # SESSION, DUE or EVENT
    source_id: int
    title: str
    starts_at: datetime
    ends_at: datetime | None
    created_at: datetime
    updated_at: datetime
    url: str = ""
    course_title: str = ""
    course_timezone: str = ""
    is_draft: bool = False
    is_mine: bool = False  # a personal event the viewer may edit
    notes: str = ""
    location: str = ""
    points: int | None = None

    @property
    def uid(self) -> str:
        """Return the local part of the stable UID: it never changes when the source does."""
        return f"{self.kind}-{self.source_id}"

    @property
    def sequence(self) -> int:
        """Return a revision number that grows with every change (seconds since creation)."""
        return max(0, int((self.updated_at - self.created_at).total_seconds()))

    @property
    def kind_label(self) -> str:
        return {SESSION: "Session", DUE: "Due", EVENT: "Event"}[self.kind]

    def course_start(self) -> datetime | None:
        """Return the start in the course's own time zone, when that is a real zone."""
        if not self.course_timezone:
            return None
        try:
            return timezone.localtime(self.starts_at, zoneinfo.ZoneInfo(self.course_timezone))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return None


@dataclass
class Day:
    """One day of a calendar view, in the viewer's time zone."""

    date: date
    in_month: bool = True
    is_today: bool = False
    entries: list[CalendarEntry] = field(default_factory=list)

    @property
    def is_weekend(self) -> bool:
        return self.date.weekday() >= 5


def viewer_timezone(user: Any) -> zoneinfo.ZoneInfo:
    """Return the person's time zone, or UTC when theirs is unknown."""
    try:
        return zoneinfo.ZoneInfo(getattr(user, "timezone", "") or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def start_of_day(day: date, tz: zoneinfo.ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


class _Links:
    """Build links to item pages, learning once which page names exist."""

    def __init__(self) -> None:
        self._exists: dict[str, bool] = {}

    def first(
        self, candidates: Sequence[tuple[str, str]], slug: str, item_id: int | None = None
    ) -> str:
        for name, target in candidates:
            if self._exists.get(name) is False or (target == "item" and item_id is None):
                continue
            args: list[Any] = [slug, item_id] if target == "item" else [slug]
            try:
                url = reverse(name, args=args)
            except NoReverseMatch:
                self._exists[name] = False
                continue
            self._exists[name] = True
            return url
        return ""

    def live_room(self, item_id: int) -> str:
        """Return the absolute address of a live session's room: where people go to join.

        Absolute with SITE_URL, as a calendar's location is read outside Lectern.
        """
        if self._exists.get(_LIVE_ROOM_PAGE) is False:
            return ""
        try:
            path = reverse(_LIVE_ROOM_PAGE, args=[item_id])
        except NoReverseMatch:
            self._exists[_LIVE_ROOM_PAGE] = False
            return ""
        return f"{settings.SITE_URL}{path}"


def course_url(slug: str, *, teacher: bool) -> str:
    """Return the main page of a course for its teacher or for a member ("" if none exists)."""
    return _Links().first(_TEACHER_ITEM_PAGES if teacher else _MEMBER_ITEM_PAGES, slug)


def entries_for(
    user: Any, *, start: datetime, end: datetime, with_details: bool = False
) -> list[CalendarEntry]:
    """Return everything on `user`'s calendar that overlaps [start, end), by start time.

    `with_details` also loads texts only the feed shows (session descriptions).
    """
    entries = [
        *_personal_entries(user, start, end),
        *_course_entries(user, start, end, with_details),
    ]
    entries.sort(key=lambda e: (e.starts_at, e.kind, e.source_id))
    return entries


def _personal_entries(user: Any, start: datetime, end: datetime) -> Iterable[CalendarEntry]:
    events = PersonalEvent.objects.filter(
        owner_id=user.pk, starts_at__lt=end, ends_at__gte=start
    ).order_by("starts_at", "pk")
    for event in events:
        yield CalendarEntry(
            kind=EVENT,
            source_id=event.pk,
            title=event.title,
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            created_at=event.created_at,
            updated_at=event.updated_at,
            url=reverse("courses:event_edit", args=[event.pk]),
            is_mine=True,
            notes=event.notes,
        )


def _course_entries(
    user: Any, start: datetime, end: datetime, with_details: bool
) -> Iterable[CalendarEntry]:
    enrolled = Enrollment.objects.filter(
        student_id=user.pk, status=Enrollment.Status.ACTIVE
    ).values("course_id")
    member = Q(course__teacher_id=user.pk) | Q(course_id__in=enrolled, published=True)
    when = Q(kind=ItemKind.SESSION, starts_at__gte=start - _LONGEST_SESSION, starts_at__lt=end) | Q(
        kind=ItemKind.ASSIGNMENT, due_at__gte=start, due_at__lt=end
    )
    items = (
        CourseItem.objects.filter(member & when, course__archived_at__isnull=True)
        .select_related("course")
        .only(
            "kind",
            "title",
            "published",
            "created_at",
            "updated_at",
            "due_at",
            "points",
            "starts_at",
            "duration_minutes",
            "meeting_url",
            "delivery",
            "course__slug",
            "course__title",
            "course__timezone",
            "course__teacher_id",
            *(["body"] if with_details else []),
        )
        .order_by()
    )
    links = _Links()
    for item in items:
        course = item.course
        teaches = course.teacher_id == user.pk
        pages = _TEACHER_ITEM_PAGES if teaches else _MEMBER_ITEM_PAGES
        common: dict[str, Any] = {
            "source_id": item.pk,
            "title": item.title,
            "created_at": item.created_at,
            "updated_at": item.updated_at,
            "url": links.first(pages, course.slug, item.pk),
            "course_title": course.title,
            "course_timezone": course.timezone,
            "is_draft": not item.published,
            "notes": item.body if with_details else "",
        }
        if item.kind == ItemKind.SESSION and item.starts_at is not None:
            ends_at = item.ends_at
            if (ends_at or item.starts_at) < start:
                continue
            yield CalendarEntry(
                kind=SESSION,
                starts_at=item.starts_at,
                ends_at=ends_at,
                location=links.live_room(item.pk)
                if item.delivery == Delivery.LIVE
                else item.meeting_url,
                **common,
            )
        elif item.kind == ItemKind.ASSIGNMENT and item.due_at is not None:
            yield CalendarEntry(
                kind=DUE, starts_at=item.due_at, ends_at=None, points=item.points, **common
            )


def _days_of(entry: CalendarEntry, tz: zoneinfo.ZoneInfo) -> list[date]:
    """Return the local days an entry covers; one that ends at midnight stops the day before."""
    first = timezone.localtime(entry.starts_at, tz).date()
    if entry.ends_at is None or entry.ends_at <= entry.starts_at:
        return [first]
    last_moment = timezone.localtime(entry.ends_at - timedelta(microseconds=1), tz).date()
    count = min((last_moment - first).days + 1, _MAX_DAYS_SHOWN)
    return [first + timedelta(days=n) for n in range(max(count, 1))]


def month_bounds(month: date) -> tuple[date, date]:
    """Return the first and last day shown for `month`: whole weeks, Monday to Sunday."""
    first = month.replace(day=1)
    next_month = (first + timedelta(days=32)).replace(day=1)
    last = next_month - timedelta(days=1)
    return first - timedelta(days=first.weekday()), last + timedelta(days=6 - last.weekday())


def month_weeks(
    entries: Iterable[CalendarEntry], month: date, tz: zoneinfo.ZoneInfo, today: date
) -> list[list[Day]]:
    """Lay entries out on the weeks of `month`."""
    grid_start, grid_end = month_bounds(month)
    days: dict[date, Day] = {}
    current = grid_start
    while current <= grid_end:
        days[current] = Day(
            date=current, in_month=current.month == month.month, is_today=current == today
        )
        current += timedelta(days=1)
    for entry in entries:
        for day in _days_of(entry, tz):
            if day in days:
                days[day].entries.append(entry)
    ordered = list(days.values())
    return [ordered[i : i + 7] for i in range(0, len(ordered), 7)]


def agenda_days(
    entries: Iterable[CalendarEntry], first: date, last: date, tz: zoneinfo.ZoneInfo, today: date
) -> list[Day]:
    """Group entries by local day between `first` and `last`, keeping only days with entries."""
    days: dict[date, Day] = {}
    for entry in entries:
        for day in _days_of(entry, tz):
            if first <= day <= last:
                days.setdefault(day, Day(date=day, is_today=day == today)).entries.append(entry)
    return [days[d] for d in sorted(days)]


# --- Writes ---------------------------------------------------------------------------------


@transaction.atomic
def create_event(
    *, owner: Any, title: str, starts_at: datetime, ends_at: datetime, notes: str = ""
) -> PersonalEvent:
    """Add an event to `owner`'s own calendar."""
    return PersonalEvent.objects.create(
        owner=owner, title=title, starts_at=starts_at, ends_at=ends_at, notes=notes
    )


@transaction.atomic
def update_event(*, event: PersonalEvent, fields: dict[str, Any]) -> PersonalEvent:
    """Change the given fields of a personal event; its feed UID stays the same."""
    allowed = {"title", "starts_at", "ends_at", "notes"}
    changed = [name for name, value in fields.items() if name in allowed]
    for name in changed:
        setattr(event, name, fields[name])
    if changed:
        event.save(update_fields=[*changed, "updated_at"])
    return event


@transaction.atomic
def delete_event(*, event: PersonalEvent) -> None:
    event.delete()


def get_or_create_feed(*, owner: Any) -> CalendarFeed:
    """Return `owner`'s feed address, creating it on first use.

    get_or_create retries the read when a concurrent first visit wins the insert.
    """
    feed, _ = CalendarFeed.objects.get_or_create(owner=owner)
    return feed


@transaction.atomic
def regenerate_feed(*, owner: Any) -> CalendarFeed:
    """Give `owner`'s feed a new secret address; the old one stops working at once."""
    feed, created = CalendarFeed.objects.select_for_update().get_or_create(owner=owner)
    if not created:
        feed.token = new_feed_token()
        feed.created_at = timezone.now()
        feed.save(update_fields=["token", "created_at"])
    return feed
