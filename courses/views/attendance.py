"""Attendance: the teacher's sheet per session and overview per course; a student's own record."""

import csv
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from core.http import AuthedRequest
from courses import access
from courses.forms.attendance import AttendanceForm
from courses.models import AttendanceStatus, CourseItem, Delivery, ItemKind
from courses.services import attendance as services
from courses.services import calendar as calendar_services

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _session_for_teacher(user: Any, slug: str, item_id: int) -> CourseItem:
    """Return a session of a course `user` teaches; anything else is not found."""
    item = access.get_item_for_teacher(user, slug, item_id)
    if item.kind != ItemKind.SESSION:
        raise Http404
    return item


def _sheet_context(
    item: CourseItem,
    form: AttendanceForm,
    saved: dict[int, str],
    marks: dict[int, services.Mark],
    **extra: Any,
) -> dict[str, Any]:
    course = item.course
    sessions = services.sessions_of(course)
    ids = [s.pk for s in sessions]
    index = ids.index(item.pk) if item.pk in ids else -1
    counts = dict.fromkeys(AttendanceStatus.values, 0)
    for status in saved.values():
        counts[status] = counts.get(status, 0) + 1
    return {
        "course": course,
        "item": item,
        "form": form,
        "rows": [
            (enrollment, field, marks.get(enrollment.student.pk))
            for enrollment, field in form.rows()
        ],
        "live": item.delivery == Delivery.LIVE
        or any(mark.live_minutes is not None for mark in marks.values()),
        "previous": sessions[index - 1] if index > 0 else None,
        "next": sessions[index + 1] if 0 <= index < len(sessions) - 1 else None,
        "counts": counts,
        "marked": sum(counts.values()),
        "back_url": calendar_services.course_url(course.slug, teacher=True)
        or reverse("courses:attendance_overview", args=[course.slug]),
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def attendance(request: AuthedRequest, slug: str, item_id: int) -> HttpResponse:
    """Mark who came to one session: a radio group per student, saved in one go."""
    item = _session_for_teacher(request.user, slug, item_id)
    enrollments = services.active_enrollments(item.course)
    marks = services.marks_for(item)
    current = {student_id: mark.status for student_id, mark in marks.items()}
    template = "courses/attendance/sheet.html"

    fill = request.POST.get("fill", "") if request.method == "POST" else ""
    if fill:
        # "Mark all present" without JavaScript: show the sheet filled in, unsaved,
        # so the teacher can change the few who weren't there before saving.
        if fill not in AttendanceStatus.values:
            return HttpResponse("Unknown attendance status.", status=400, content_type="text/plain")
        filled = {e.student.pk: fill for e in enrollments}
        form = AttendanceForm(enrollments=enrollments, current=filled)
        return render(request, template, _sheet_context(item, form, current, marks, filled=True))

    form = AttendanceForm(
        request.POST if request.method == "POST" else None,
        enrollments=enrollments,
        current=current,
    )
    if request.method == "POST":
        if not form.is_valid():
            return render(request, template, _sheet_context(item, form, current, marks), status=400)
        changed = services.record_attendance(
            item=item, marked_by=request.user, statuses=form.statuses()
        )
        if changed:
            messages.success(
                request,
                f"Attendance saved: {changed} student{'s' if changed != 1 else ''} updated.",
            )
        else:
            messages.info(request, "Nothing changed: attendance was already up to date.")
        return redirect("courses:attendance", slug=slug, item_id=item.pk)
    return render(request, template, _sheet_context(item, form, current, marks))


@login_required
@require_GET
def attendance_overview(request: AuthedRequest, slug: str) -> HttpResponse:
    """Show every active student by every session of a course, with totals."""
    course = access.get_course_for_teacher(request.user, slug)
    overview = services.course_overview(course)
    return render(
        request,
        "courses/attendance/overview.html",
        {
            "course": course,
            "overview": overview,
            "back_url": calendar_services.course_url(course.slug, teacher=True)
            or reverse("dashboard"),
            "now": timezone.now(),
        },
    )


def _safe_cell(value: object) -> str:
    """Return a CSV cell a spreadsheet will show as text, never run as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


@login_required
@require_GET
def attendance_csv(request: AuthedRequest, slug: str) -> HttpResponse:
    """Download the course's attendance overview as CSV."""
    course = access.get_course_for_teacher(request.user, slug)
    overview = services.course_overview(course)
    tz = calendar_services.viewer_timezone(request.user)
    labels = dict(AttendanceStatus.choices)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="attendance-{course.slug}.csv"'
    response["Cache-Control"] = "private, no-store"
    writer = csv.writer(response)
    session_headers = [
        f"{s.title} ({timezone.localtime(s.starts_at, tz):%Y-%m-%d %H:%M} {tz.key})"
        if s.starts_at
        else s.title
        for s in overview.sessions
    ]
    writer.writerow(
        [
            _safe_cell(h)
            for h in ["Student", "Email", *session_headers, "Present", "Late", "Absent", "Rate"]
        ]
    )
    for row in overview.rows:
        tally = row.tally
        writer.writerow(
            [
                _safe_cell(row.student.get_full_name() or row.student.email),
                _safe_cell(row.student.email),
                *[_safe_cell(labels.get(c, "") if c else "") for c in row.cells],
                tally.present,
                tally.late,
                tally.absent,
                "" if tally.rate is None else f"{tally.rate}%",
            ]
        )
    return response


@login_required
@require_GET
def my_attendance(request: AuthedRequest, slug: str) -> HttpResponse:
    """Show a student their own attendance in one course."""
    course, enrollment = access.get_course_for_member(request.user, slug)
    if enrollment is None:  # the teacher: their view is the overview
        return redirect("courses:attendance_overview", slug=course.slug)
    rows, tally = services.own_attendance(course, request.user)
    return render(
        request,
        "courses/attendance/mine.html",
        {
            "course": course,
            "rows": rows,
            "tally": tally,
            "back_url": calendar_services.course_url(course.slug, teacher=False),
            "now": timezone.now(),
        },
    )
