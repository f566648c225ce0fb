"""A teacher's AI usage for one course: units this month, what they went on, and the log.

Units count against the teacher across all their courses (their students'
questions included), per calendar month in UTC; this page shows the
teacher's whole month against their allowance, then this course's share.
The log names who asked, since the teacher may know which of their students
used the assistant, and the items given as context, by title; never what
was asked or answered, which Lectern doesn't keep.

The page runs a fixed number of queries however long the log is: totals are
aggregated in the database, and the titles of every item the last requests
used come in one query.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count, F, Sum
from django.db.models.functions import TruncMonth
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from ai import client, services
from ai.models import AiRequest
from courses import access
from courses.models import Course, CourseItem

RECENT = 50
MONTHS = 6


@dataclass(frozen=True)
class Tally:
    """Requests of one kind (an action and outcome, or a month) and what they cost."""

    label: str
    requests: int
    units: int
    tokens: int
    outcome: str = ""
    ok: bool = True


@dataclass(frozen=True)
class ItemLink:
    title: str
    url: str


@dataclass(frozen=True)
class LogRow:
    """One request of the course's log, as the teacher reads it."""

    created_at: datetime
    who: str
    action: str
    items: list[ItemLink]
    missing_items: int
    tokens: int
    units: int
    outcome: str
    ok: bool


def _month_start(day: date) -> datetime:
    return datetime(day.year, day.month, 1, tzinfo=UTC)


def _months_back(first: date, count: int) -> list[date]:
    """Return the first days of the `count` months ending with `first`'s, oldest first."""
    months = []
    year, month = first.year, first.month
    for _ in range(count):
        months.append(date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return months[::-1]


def _tokens() -> Any:
    return Sum(F("prompt_tokens") + F("completion_tokens"))


def _by_action(course: Course, since: datetime) -> list[Tally]:
    rows = (
        AiRequest.objects.filter(course=course, created_at__gte=since)
        .values("action", "outcome")
        .annotate(requests=Count("id"), units=Sum("units"), tokens=_tokens())
        .order_by("action", "outcome")
    )
    actions = dict(AiRequest.Action.choices)
    outcomes = dict(AiRequest.Outcome.choices)
    return [
        Tally(
            label=actions.get(row["action"], row["action"]),
            outcome=outcomes.get(row["outcome"], row["outcome"]),
            ok=row["outcome"] == AiRequest.Outcome.OK,
            requests=row["requests"],
            units=row["units"] or 0,
            tokens=row["tokens"] or 0,
        )
        for row in rows
    ]


def _by_month(course: Course, months: list[date]) -> list[Tally]:
    rows = (
        AiRequest.objects.filter(course=course, created_at__gte=_month_start(months[0]))
        .annotate(month=TruncMonth("created_at", tzinfo=UTC))
        .values("month")
        .annotate(requests=Count("id"), units=Sum("units"), tokens=_tokens())
        .order_by("month")
    )
    found = {row["month"].date(): row for row in rows}
    tallies = []
    for month in months:
        row: Any = found.get(month, {})
        tallies.append(
            Tally(
                label=f"{month:%B %Y}",
                requests=row.get("requests", 0),
                units=row.get("units") or 0,
                tokens=row.get("tokens") or 0,
            )
        )
    return tallies


def _who(request: AiRequest, teacher: Any) -> str:
    if request.user_id is None:
        return "Someone no longer on Lectern"
    if request.user_id == teacher.pk:
        return "You"
    name = request.user.get_full_name() if request.user is not None else ""
    return name or "A student"


def _log(course: Course, teacher: Any) -> list[LogRow]:
    recent = list(
        AiRequest.objects.filter(course=course)
        .select_related("user")
        .order_by("-created_at", "-id")[:RECENT]
    )
    ids = {int(i) for row in recent for i in row.context_item_ids}
    titles = dict(
        CourseItem.objects.filter(course=course, pk__in=ids).values_list("pk", "title")
        if ids
        else []
    )
    log = []
    for row in recent:
        used = [int(i) for i in row.context_item_ids]
        log.append(
            LogRow(
                created_at=row.created_at,
                who=_who(row, teacher),
                action=row.get_action_display(),
                items=[
                    ItemLink(titles[i], reverse("courses:teach_item_edit", args=[course.slug, i]))
                    for i in used
                    if i in titles
                ],
                missing_items=sum(1 for i in used if i not in titles),
                tokens=row.prompt_tokens + row.completion_tokens,
                units=row.units,
                outcome=row.get_outcome_display(),
                ok=row.outcome == AiRequest.Outcome.OK,
            )
        )
    return log


@login_required
@require_safe
def course_usage(request: HttpRequest, slug: str) -> HttpResponse:
    """Show the teacher their AI units this month and how this course used AI."""
    course = access.get_course_for_teacher(request.user, slug)
    teacher = request.user
    this_month = services.month_of()
    allowance = services.allowance_of(teacher)
    by_action = _by_action(course, _month_start(this_month))
    months = _by_month(course, _months_back(this_month, MONTHS))
    percent = (
        min(100, round(allowance.used * 100 / allowance.limit))
        if allowance.limit
        else (100 if allowance.limit == 0 else 0)
    )
    return render(
        request,
        "ai/usage/course_usage.html",
        {
            "course": course,
            "configured": client.configured(),
            "not_configured": client.NOT_CONFIGURED,
            "allowance": allowance,
            "percent": percent,
            "near": allowance.limit is not None and percent >= 80,
            "month": this_month,
            "by_action": by_action,
            "course_units": sum(t.units for t in by_action),
            "course_requests": sum(t.requests for t in by_action),
            "course_tokens": sum(t.tokens for t in by_action),
            "months": months,
            "busiest_month": max((t.units for t in months), default=0),
            "log": _log(course, teacher),
            "recent_count": RECENT,
            "tokens_per_unit": services.TOKENS_PER_UNIT,
        },
    )
