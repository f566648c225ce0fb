"""The student's side of a course: their courses, a course's page, one item, leaving."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from core.http import AuthedRequest
from core.markdown import render_markdown
from courses import access, live, selectors
from courses.models import CourseItem, Delivery, ItemKind
from courses.services import enrolment as services
from courses.services import work

# Short texts shown in full on the course page; longer kinds open on their own page.
_INLINE_KINDS = frozenset({ItemKind.ANNOUNCEMENT, ItemKind.NOTE})
UPCOMING_SESSIONS = 3


@dataclass(frozen=True)
class ItemRow:
    """One line of the course page: the item and what it means to this viewer."""

    item: CourseItem
    is_new: bool
    is_submitted: bool
    body_html: str


@login_required
@require_safe
def my_courses(request: AuthedRequest) -> HttpResponse:
    enrollments = list(selectors.student_courses(request.user))
    return render(request, "courses/learning/my_courses.html", {"enrollments": enrollments})


@login_required
@require_safe
def course(request: AuthedRequest, slug: str) -> HttpResponse:
    """Show a course's published items in order, what's new since last time and what's due.

    The course's teacher sees the same page as a preview. The page reads a
    fixed number of queries however many items the course has.
    """
    course, enrollment = access.get_course_for_member(request.user, slug)
    items = list(selectors.course_items_for_student(course))
    now = timezone.now()
    submitted: set[int] = set()
    since = None
    if enrollment is not None:
        submitted = selectors.submitted_item_ids(request.user, course)
        since = enrollment.last_visited_at or enrollment.enrolled_at
    rows = [
        ItemRow(
            item=item,
            is_new=bool(since and item.published_at and item.published_at > since),
            is_submitted=item.pk in submitted,
            body_html=render_markdown(item.body) if item.kind in _INLINE_KINDS else "",
        )
        for item in items
    ]
    due_soon = sorted(
        (
            item
            for item in items
            if item.kind == ItemKind.ASSIGNMENT
            and item.due_at is not None
            and now <= item.due_at < now + selectors.DUE_SOON
            and item.pk not in submitted
        ),
        key=lambda item: item.due_at or now,
    )
    upcoming = sorted(
        (item for item in items if item.kind == ItemKind.SESSION and _not_over(item, now)),
        key=lambda item: item.starts_at or now,
    )[:UPCOMING_SESSIONS]
    context = {
        "course": course,
        "enrollment": enrollment,
        "is_preview": enrollment is None,
        "rows": rows,
        "new_count": sum(1 for row in rows if row.is_new),
        "previous_visit": enrollment.last_visited_at if enrollment is not None else None,
        "due_soon": due_soon,
        "upcoming": upcoming,
        "viewer_tz": timezone.get_current_timezone_name(),
    }
    if enrollment is not None:
        # After the "New" badges are worked out: they compare with the previous visit.
        services.record_visit(enrollment=enrollment, saw_new_items=bool(context["new_count"]))
    return render(request, "courses/learning/course.html", context)


def _not_over(item: CourseItem, now: datetime) -> bool:
    end = item.ends_at or item.starts_at
    return end is not None and end >= now


@login_required
@require_safe
def item(request: AuthedRequest, slug: str, item_id: int) -> HttpResponse:
    item, enrollment = access.get_item_for_member(request.user, slug, item_id)
    context: dict[str, Any] = {"submission": None}
    if enrollment is not None and item.kind == ItemKind.ASSIGNMENT:
        context |= work.submit_box_context(item=item, student=request.user)
    now = timezone.now()
    if item.kind == ItemKind.SESSION:
        context |= _session_context(item, request.user, now)
    context |= {
        "course": item.course,
        "item": item,
        "enrollment": enrollment,
        "is_preview": enrollment is None,
        "body_html": render_markdown(item.body),
        "viewer_tz": timezone.get_current_timezone_name(),
        "now": now,
    }
    return render(request, "courses/learning/item.html", context)


def _session_context(item: CourseItem, viewer: Any, now: datetime) -> dict[str, Any]:
    """Return what a session's page shows of its live room and recordings.

    Recordings are listed whatever the session's delivery now is, so a session
    switched to an external link keeps what was recorded while it was live.
    """
    context: dict[str, Any] = {"recordings": live.recordings_for(item, viewer)}
    if item.delivery != Delivery.LIVE or item.starts_at is None:
        return context
    opens, closes = live.join_window(item)
    state = "upcoming" if now < opens else "open" if now <= closes else "ended"
    available = live.available()
    return context | {
        "room_opens": opens,
        "room_closes": closes,
        "room_state": state,
        "live_available": available,
        "live_reason": "" if available else live.NOT_SET_UP,
    }


@login_required
@require_http_methods(["GET", "POST"])
def leave(request: AuthedRequest, slug: str) -> HttpResponse:
    """Confirm (GET), then leave (POST) a course the student is enrolled in."""
    course, enrollment = access.get_course_for_member(request.user, slug)
    if enrollment is None:
        raise Http404
    if request.method == "POST":
        services.leave_course(enrollment=enrollment)
        messages.success(request, f"You've left {course.title}.")
        return redirect("courses:my_courses")
    return render(request, "courses/learning/leave.html", {"course": course})
