"""Reading analytics: a person's source (for the CRM) and a teacher's traffic reports.

A report is a fixed number of queries whatever the period: the daily series,
the funnel's totals, the top campaign sources, the top referring sites and,
for the teacher's overall report, the courses.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from analytics.models import Attribution, CourseDay
from courses.models import Course

PERIODS = (30, 90, 365)
TOP_SOURCES = 10
FIGURES = ("views", "visitors", "clicks", "registrations", "enrolments", "purchases")


@dataclass(frozen=True)
class Source:
    """Where a person came from on their first visit, as the CRM shows it."""

    utm_source: str
    utm_medium: str
    utm_campaign: str
    utm_term: str
    utm_content: str
    referrer_domain: str
    landing_path: str
    first_seen: datetime | None

    @property
    def label(self) -> str:
        """Say the source in a few words: the campaign's source, else the site, else direct."""
        if self.utm_source:
            medium = f" / {self.utm_medium}" if self.utm_medium else ""
            return f"{self.utm_source}{medium}"
        return self.referrer_domain or "Direct"


_SOURCE_FIELDS = (
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
    "referrer_domain", "landing_path", "first_seen",
)  # fmt: skip


def source_for(user: Any) -> Source | None:
    """Return where `user` came from, or None when nothing was recorded (one query)."""
    row = Attribution.objects.filter(user_id=getattr(user, "pk", user)).values(*_SOURCE_FIELDS)
    found = row.first()
    return Source(**found) if found else None


def sources_for(user_ids: Iterable[int]) -> dict[int, Source]:
    """Return the source of each of `user_ids` that has one, in one query (for lists)."""
    ids = list(user_ids)
    if not ids:
        return {}
    rows = Attribution.objects.filter(user_id__in=ids).values("user_id", *_SOURCE_FIELDS)
    return {row.pop("user_id"): Source(**row) for row in rows}


def source_labels_for(user_ids: Iterable[int]) -> dict[int, str]:
    """Return the short label of each person's source, in one query."""
    return {pk: source.label for pk, source in sources_for(user_ids).items()}


def users_from_source(source: str) -> Q:
    """Return a filter on users whose first visit came from `source` (a campaign source or site)."""
    return Q(attribution__utm_source=source) | Q(
        attribution__utm_source="", attribution__referrer_domain=source
    )


# --- Reports ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayFigures:
    day: date
    views: int
    visitors: int


@dataclass(frozen=True)
class Totals:
    views: int = 0
    visitors: int = 0
    clicks: int = 0
    registrations: int = 0
    enrolments: int = 0
    purchases: int = 0


@dataclass(frozen=True)
class SourceFigures:
    name: str  # "" for none
    totals: Totals

    @property
    def label(self) -> str:
        return self.name or "None (direct or unknown)"


@dataclass(frozen=True)
class CourseFigures:
    course_id: int | None
    title: str
    slug: str
    totals: Totals

    @property
    def label(self) -> str:
        return self.title


@dataclass(frozen=True)
class Report:
    days: int
    since: date
    until: date
    series: list[DayFigures]
    totals: Totals
    sources: list[SourceFigures]
    referrers: list[SourceFigures]
    courses: list[CourseFigures]

    @property
    def empty(self) -> bool:
        return not any(getattr(self.totals, name) for name in FIGURES)


def _sums() -> dict[str, Any]:
    return {name: Coalesce(Sum(name), 0) for name in FIGURES}


def _totals(row: Any) -> Totals:
    return Totals(**{name: int(row.get(name) or 0) for name in FIGURES})


def _grouped(rows: QuerySet, field: str) -> list[SourceFigures]:
    top = rows.values(field).annotate(**_sums()).order_by("-views", "-visitors", field)
    return [SourceFigures(row[field], _totals(row)) for row in top[:TOP_SOURCES]]


def report(*, teacher: Any, course: Course | None, days: int, today: date) -> Report:
    """Return `days` days of traffic up to `today`: of `course`, or of all the teacher's pages."""
    since = today - timedelta(days=days - 1)
    rows = CourseDay.objects.filter(teacher_id=teacher.pk, day__gte=since, day__lte=today)
    if course is not None:
        rows = rows.filter(course=course)
    by_day = {
        row["day"]: row
        for row in rows.values("day").annotate(
            views=Coalesce(Sum("views"), 0), visitors=Coalesce(Sum("visitors"), 0)
        )
    }
    series = []
    for offset in range(days):
        day = since + timedelta(days=offset)
        row: Any = by_day.get(day, {})
        series.append(DayFigures(day, int(row.get("views", 0)), int(row.get("visitors", 0))))
    courses: list[CourseFigures] = []
    if course is None:
        per_course = (
            rows.values("course_id", "course__title", "course__slug")
            .annotate(**_sums())
            .order_by("-views", "course__title")
        )
        courses = [
            CourseFigures(
                row["course_id"],
                row["course__title"] or "Your teacher page",
                row["course__slug"] or "",
                _totals(row),
            )
            for row in per_course
        ]
    return Report(
        days=days,
        since=since,
        until=today,
        series=series,
        totals=_totals(rows.aggregate(**_sums())),
        sources=_grouped(rows, "utm_source"),
        referrers=_grouped(rows, "referrer_domain"),
        courses=courses,
    )
