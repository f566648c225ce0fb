"""A teacher's Traffic pages: one per course and one for all their pages."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from analytics import charts, selectors
from core.http import AuthedRequest
from courses import access
from courses.models import Course


def _days(request: AuthedRequest) -> int | None:
    """Return the period asked for (30 days by default), or None for one not offered."""
    raw = request.GET.get("days", "30")
    return int(raw) if raw.isdigit() and int(raw) in selectors.PERIODS else None


def _render(request: AuthedRequest, course: Course | None) -> HttpResponse:
    days = _days(request)
    if days is None:
        periods = ", ".join(str(p) for p in selectors.PERIODS)
        return HttpResponseBadRequest(f"Choose a period of {periods} days.")
    report = selectors.report(
        teacher=request.user, course=course, days=days, today=timezone.localdate()
    )
    return render(
        request,
        "analytics/traffic.html",
        {
            "course": course,
            "report": report,
            "charts": charts.charts_for(report),
            "periods": selectors.PERIODS,
        },
    )


@login_required
@require_safe
def course_traffic(request: AuthedRequest, slug: str) -> HttpResponse:
    """Show a course page's views, visitors, funnel and sources; its teacher only."""
    course = access.get_course_for_teacher(request.user, slug)
    return _render(request, course)


@login_required
@require_safe
def traffic(request: AuthedRequest) -> HttpResponse:
    """Show the traffic of all the teacher's pages: course pages and their own page."""
    if not request.user.is_teacher:
        raise Http404
    return _render(request, None)
