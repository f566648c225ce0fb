"""A teacher's Sales page and the CSV of the sales it lists."""

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from billing import sales
from billing.forms_sales import SalesFilterForm
from core.http import AuthedRequest
from courses.models import Course


@dataclass(frozen=True)
class Period:
    label: str
    query: str
    current: bool


def _teacher_courses(request: AuthedRequest) -> list[Course]:
    """Refuse anyone who doesn't teach (404); return their courses, for the course filter."""
    if not request.user.is_teacher:
        raise Http404
    return list(
        Course.objects.filter(teacher=request.user).order_by("title", "pk").only("pk", "title")
    )


def _periods(query: QueryDict, chosen: sales.SalesFilter, today: date) -> list[Period]:
    """Return links to the usual periods, each keeping the other filters."""
    last_year = today.year - 1
    spans = [
        ("All time", None, None),
        ("This month", today.replace(day=1), None),
        ("Last 30 days", today - timedelta(days=29), None),
        ("This year", date(today.year, 1, 1), None),
        (str(last_year), date(last_year, 1, 1), date(last_year, 12, 31)),
    ]
    periods = []
    for label, start, end in spans:
        kept = query.copy()
        for name in ("page", "date_from", "date_to"):
            kept.pop(name, None)
        if start is not None:
            kept["date_from"] = start.isoformat()
        if end is not None:
            kept["date_to"] = end.isoformat()
        current = (chosen.date_from, chosen.date_to) == (start, end)
        periods.append(Period(label, kept.urlencode(), current))
    return periods


@login_required
@require_safe
def sales_page(request: AuthedRequest) -> HttpResponse:
    """Totals, months and courses per currency for the chosen sales, then the sales themselves."""
    courses = _teacher_courses(request)
    form = SalesFilterForm(request.GET, courses=courses)
    chosen = form.sales_filter()
    zone = timezone.get_current_timezone()
    today = timezone.localdate()
    rows = sales.page_rows(request.user, chosen, zone)
    context = {
        "form": form,
        "chosen": chosen,
        "reports": sales.reports(request.user, chosen, zone, today),
        "page": Paginator(rows, sales.PAGE_SIZE).get_page(request.GET.get("page")),
        "periods": _periods(request.GET, chosen, today),
        "has_courses": bool(courses),
    }
    return render(request, "billing/sales.html", context)


class _Echo:
    """A file that hands back what is written to it, so csv.writer can feed a stream."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(rows: Iterator[list[str]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # A byte-order mark first, so spreadsheets read the file as UTF-8.
    yield "\ufeff"
    for row in rows:
        yield writer.writerow(row)


@login_required
@require_safe
def sales_export(request: AuthedRequest) -> StreamingHttpResponse:
    """The chosen sales as a CSV, streamed row by row."""
    courses = _teacher_courses(request)
    chosen = SalesFilterForm(request.GET, courses=courses).sales_filter()
    # Read now: the time zone is the request's, and the rows are written after it ends.
    zone = timezone.get_current_timezone()
    response = StreamingHttpResponse(
        _csv_lines(sales.csv_rows(request.user, chosen, zone)),
        content_type="text/csv; charset=utf-8",
    )
    filename = f"sales-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
