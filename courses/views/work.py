"""Submitting work, the grading queue, grading, and gradebooks."""

import csv
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from core.http import AuthedRequest
from courses import access
from courses.forms.work import GradeForm, SubmissionForm
from courses.models import Course, CourseItem, Enrollment, ItemKind, Submission
from courses.services import work

QUEUE_PAGE_SIZE = 50
GRADEBOOK_PAGE_SIZE = 100


def item_url(item: CourseItem) -> str:
    return reverse("courses:item", args=[item.course.slug, item.pk])


@login_required
@require_http_methods(["GET", "POST"])
def submit(request: AuthedRequest, slug: str, item_id: int) -> HttpResponse:
    """Take a student's work on an assignment; errors come back on a page of their own."""
    item, enrollment = access.get_item_for_member(request.user, slug, item_id)
    if enrollment is None or item.kind != ItemKind.ASSIGNMENT:
        # Teachers don't submit, and other kinds of item take no work.
        raise Http404
    if request.method == "GET":
        return redirect(item_url(item))
    form = SubmissionForm(request.POST, request.FILES)
    if form.is_valid():
        had_submitted = Submission.objects.filter(item=item, student=request.user).exists()
        try:
            submission = work.submit_work(
                item=item,
                student=request.user,
                text=form.cleaned_data["text"],
                uploads=form.cleaned_data["attachments"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if had_submitted:
                note = "Your new version replaced the one you sent before."
            else:
                note = "Your work was submitted."
            if submission.is_late:
                note += " It was after the due time, so it is marked late."
            messages.success(request, note)
            return redirect(item_url(item) + "#submission")
    context = work.submit_box_context(item=item, student=request.user)
    context["form"] = form
    return render(request, "courses/work/submit.html", context, status=400)


def _queue(course: Course) -> Any:
    """Return the course's submissions: ungraded first, then drafts, then returned; oldest first."""
    return (
        Submission.objects.filter(item__course=course, item__kind=ItemKind.ASSIGNMENT)
        .select_related("student", "item")
        .defer("text", "feedback", "item__body")
        .annotate(
            ungraded=ExpressionWrapper(Q(graded_at__isnull=True), output_field=BooleanField()),
            unreturned=ExpressionWrapper(Q(returned_at__isnull=True), output_field=BooleanField()),
        )
        .order_by("-ungraded", "-unreturned", "submitted_at", "pk")
    )


@login_required
@require_safe
def grading(request: AuthedRequest, slug: str) -> HttpResponse:
    """List the course's submissions, the ones waiting for a grade first."""
    course = access.get_course_for_teacher(request.user, slug)
    queue = _queue(course)
    page = Paginator(queue, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    to_grade = Submission.objects.filter(item__course=course, graded_at__isnull=True).count()
    return render(
        request,
        "courses/work/grading.html",
        {"course": course, "page": page, "to_grade": to_grade},
    )


@login_required
@require_http_methods(["GET", "POST"])
def grade(request: AuthedRequest, submission_id: int) -> HttpResponse:
    """Show one submission and take its points and feedback."""
    submission = access.get_submission_for_teacher(request.user, submission_id)
    item = submission.item
    course = item.course
    if request.method == "POST":
        form = GradeForm(request.POST, item=item)
        return_to_student = request.POST.get("action") == "return"
        if form.is_valid():
            try:
                work.grade_submission(
                    submission=submission,
                    grader=request.user,
                    points=form.cleaned_data["points"],
                    feedback=form.cleaned_data["feedback"],
                    return_to_student=return_to_student,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                name = submission.student.get_full_name() or submission.student.email
                if return_to_student:
                    messages.success(request, f"Grade returned to {name}.")
                else:
                    messages.success(request, f"Grade saved. {name} sees it once you return it.")
                upcoming = (
                    _queue(course).filter(graded_at__isnull=True).exclude(pk=submission.pk).first()
                )
                if upcoming is not None:
                    return redirect("courses:grade", upcoming.pk)
                return redirect("courses:grading", course.slug)
    else:
        initial = {"points": submission.points_awarded, "feedback": submission.feedback}
        form = GradeForm(initial=initial, item=item)
    context = {
        "course": course,
        "item": item,
        "submission": submission,
        "files": list(submission.files.order_by("pk")),
        "form": form,
    }
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "courses/work/grade.html", context, status=status)


def _active_students(course: Course) -> Any:
    return (
        Enrollment.objects.filter(course=course, status=Enrollment.Status.ACTIVE)
        .select_related("student")
        .order_by("student__last_name", "student__first_name", "student__email", "pk")
    )


@login_required
@require_safe
def gradebook(request: AuthedRequest, slug: str) -> HttpResponse:
    """Show every enrolled student's points on every published assignment."""
    course = access.get_course_for_teacher(request.user, slug)
    page = Paginator(_active_students(course), GRADEBOOK_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    book = work.build_gradebook(
        course=course, students=[e.student for e in page.object_list], returned_only=False
    )
    rows = [(row, book.percent(row)) for row in book.rows]
    return render(
        request,
        "courses/work/gradebook.html",
        {"course": course, "page": page, "book": book, "rows": rows},
    )


@login_required
@require_safe
def gradebook_csv(request: AuthedRequest, slug: str) -> HttpResponse:
    """Export the whole gradebook as CSV, safe to open in a spreadsheet."""
    course = access.get_course_for_teacher(request.user, slug)
    students = [e.student for e in _active_students(course)]
    book = work.build_gradebook(course=course, students=students, returned_only=False)
    filename = f"gradebook-{course.slug}-{timezone.localdate():%Y-%m-%d}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    writer = csv.writer(response)
    cell = work.neutralise_csv_cell
    header = ["Student", "Email"]
    header += [f"{a.title} (/{a.points or 0})" for a in book.assignments]
    header += ["Total", "Possible", "Percent", "Late submissions"]
    writer.writerow([cell(h) for h in header])
    for row in book.rows:
        percent = book.percent(row)
        writer.writerow(
            [
                cell(row.student.get_full_name()),
                cell(row.student.email),
                *(cell(c.points) for c in row.cells),
                row.total,
                book.possible,
                "" if percent is None else percent,
                row.late_count,
            ]
        )
    return response


@login_required
@require_safe
def my_grades(request: AuthedRequest, slug: str) -> HttpResponse:
    """Show a student their returned grades and feedback in one course."""
    course, enrollment = access.get_course_for_member(request.user, slug)
    if enrollment is None:
        return redirect("courses:gradebook", course.slug)
    assignments = list(
        CourseItem.objects.filter(course=course, kind=ItemKind.ASSIGNMENT)
        .visible_to_students()
        .order_by("position", "pk")
    )
    book = work.build_gradebook(
        course=course,
        students=[request.user],
        returned_only=True,
        assignments=assignments,
        with_feedback=True,
    )
    row = book.rows[0]
    return render(
        request,
        "courses/work/my_grades.html",
        {
            "course": course,
            "book": book,
            "row": row,
            "percent": book.percent(row),
            "returned_count": sum(1 for c in row.cells if c.points is not None),
        },
    )
