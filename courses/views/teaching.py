"""The teacher's side of a course: its details, publication and its ordered items.

Every view loads the course through `get_course_for_teacher`, so another
teacher's course is a 404 on every page here.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.http import AuthedRequest
from courses import enrolment_policy
from courses.access import get_course_for_teacher, get_item_for_teacher
from courses.forms.courses import MARKDOWN_MAX_CHARS, CourseForm, HandleForm, PublishForm
from courses.forms.items import FORMS, form_for
from courses.models import Course, CourseItem, Enrollment, ItemKind, Submission, Visibility
from courses.services import courses as course_services
from courses.services import items as item_services
from onboarding import selectors as onboarding

KIND_HELP: dict[str, str] = {
    ItemKind.ANNOUNCEMENT: "News for everyone enrolled.",
    ItemKind.MATERIAL: "A lesson or reading, written here.",
    ItemKind.ASSIGNMENT: "Work to hand in, with a due date and points.",
    ItemKind.SESSION: "A live class at a set time, with its meeting link.",
    ItemKind.FILE: "A document, slides or a recording to download.",
    ItemKind.LINK: "A page elsewhere on the web.",
    ItemKind.NOTE: "A note for yourself, or shared with students.",
}
TOO_BIG = (
    f"That was more text than Lectern accepts in one form. Descriptions and item texts can be "
    f"up to {MARKDOWN_MAX_CHARS:,} characters; nothing was saved."
)


def _wants_json(request: AuthedRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _read_post(request: AuthedRequest) -> bool:
    """Parse the submitted form; return False when it is over the size Lectern accepts."""
    try:
        request.POST  # noqa: B018 - parsing is what may raise
        request.FILES  # noqa: B018
    except RequestDataTooBig:
        return False
    return True


def _too_big(request: AuthedRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    return render(request, template, {**context, "too_big": TOO_BIG}, status=413)


def _teacher_only(request: AuthedRequest) -> None:
    # Creating courses is for teachers; everyone else gets the same 404 as a missing page.
    if not request.user.is_teacher:
        raise Http404


def _flatten(error: ValidationError) -> list[str]:
    return [str(m) for m in error.messages]


# --- Course ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def course_new(request: AuthedRequest) -> HttpResponse:
    """Create a course; it starts as a draft unless the teacher publishes it at once."""
    _teacher_only(request)
    template = "courses/teaching/course_form.html"
    if request.method == "POST" and not _read_post(request):
        form = CourseForm(teacher=request.user)
        return _too_big(request, template, {"form": form, "course": None})
    # A starting point suggested from the teacher's onboarding answers fills the empty form.
    starter = onboarding.starter(request.GET.get("template", ""))
    form = CourseForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        teacher=request.user,
        initial=_starter_initial(starter),
    )
    if request.method == "POST" and form.is_valid():
        try:
            course = course_services.create_course(
                teacher=request.user,
                fields=form.course_fields(),
                cover_upload=form.cleaned_data.get("cover_upload"),
            )
        except ValidationError as exc:
            _add_errors(form, exc, default_field="cover_upload")
        else:
            messages.success(request, f"“{course.title}” is created. Add its first items below.")
            return redirect("courses:teach_course", slug=course.slug)
    status = 400 if form.is_bound else 200
    context: dict[str, Any] = {"form": form, "course": None, "starter": starter}
    if not form.is_bound and starter is None:
        context["starters"] = onboarding.suggested_starters(request.user)
    return render(request, template, context, status=status)


def _starter_initial(starter: Any) -> dict[str, Any]:
    if starter is None:
        return {}
    fields = ("title", "summary", "description", "schedule", "capacity")
    return {name: getattr(starter, name) for name in fields if getattr(starter, name)}


@login_required
@require_http_methods(["GET", "POST"])
def course_edit(request: AuthedRequest, slug: str) -> HttpResponse:
    course = get_course_for_teacher(request.user, slug, Course.objects.select_related("cover"))
    template = "courses/teaching/course_form.html"
    if request.method == "POST" and not _read_post(request):
        return _too_big(
            request,
            template,
            {"form": CourseForm(instance=course, teacher=request.user), "course": course},
        )
    form = CourseForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        instance=course,
        teacher=request.user,
    )
    if request.method == "POST" and form.is_valid():
        try:
            course_services.update_course(
                course=course,
                fields=form.course_fields(),
                cover_upload=form.cleaned_data.get("cover_upload"),
                remove_cover=bool(form.cleaned_data.get("remove_cover")),
            )
        except ValidationError as exc:
            course.refresh_from_db()
            _add_errors(form, exc, default_field="cover_upload")
        else:
            messages.success(request, "Your changes are saved.")
            return redirect("courses:teach_course", slug=course.slug)
    status = 400 if form.is_bound else 200
    return render(request, template, {"form": form, "course": course}, status=status)


def _add_errors(form: Any, exc: ValidationError, *, default_field: str) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(default_field if default_field in form.fields else None, exc)


@login_required
@require_safe
def course_manage(request: AuthedRequest, slug: str) -> HttpResponse:
    """Show a course's items in order, with everything a teacher does to them."""
    course = get_course_for_teacher(
        request.user,
        slug,
        Course.objects.select_related("teacher")
        .with_enrolment_facts()
        .annotate(
            active_count=Count(
                "enrollments", filter=Q(enrollments__status=Enrollment.Status.ACTIVE)
            )
        ),
    )
    answer = enrolment_policy.answer_for(request.user, course)
    items = list(
        CourseItem.objects.filter(course=course)
        .select_related("file")
        .annotate(ungraded=Count("submissions", filter=Q(submissions__graded_at__isnull=True)))
        .order_by("position", "pk")
    )
    ungraded = sum(getattr(i, "ungraded", 0) for i in items if i.kind == ItemKind.ASSIGNMENT)
    return render(
        request,
        "courses/teaching/course_manage.html",
        {
            "course": course,
            "items": items,
            "kinds": [(kind, label, KIND_HELP[kind]) for kind, label in ItemKind.choices],
            "seats_left": answer.seats_left,
            "answer": answer,
            "ungraded": ungraded,
            "publish_form": PublishForm(),
            "Visibility": Visibility,
            "storefront_url": request.build_absolute_uri(course.get_absolute_url()),
        },
    )


@login_required
@require_POST
def course_publish(request: AuthedRequest, slug: str) -> HttpResponse:
    course = get_course_for_teacher(request.user, slug)
    form = PublishForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose whether the course is public or unlisted.")
        return redirect("courses:teach_course", slug=course.slug)
    try:
        course_services.publish_course(course=course, visibility=form.cleaned_data["visibility"])
    except ValidationError as exc:
        messages.error(request, " ".join(_flatten(exc)))
        return redirect("courses:teach_course_edit", slug=course.slug)
    if course.visibility == Visibility.PUBLIC:
        messages.success(request, "Published. Your course is listed on your public page.")
    else:
        messages.success(request, "Published as unlisted: anyone with the link can see it.")
    return redirect("courses:teach_course", slug=course.slug)


@login_required
@require_POST
def course_unpublish(request: AuthedRequest, slug: str) -> HttpResponse:
    course = get_course_for_teacher(request.user, slug)
    course_services.unpublish_course(course=course)
    messages.success(request, "Back to draft: the course page is hidden from everyone but you.")
    return redirect("courses:teach_course", slug=course.slug)


@login_required
@require_POST
def course_archive(request: AuthedRequest, slug: str) -> HttpResponse:
    course = get_course_for_teacher(request.user, slug)
    if request.POST.get("restore"):
        course_services.restore_course(course=course)
        messages.success(request, "The course is back from the archive.")
    else:
        course_services.archive_course(course=course)
        messages.success(request, "Archived. The course page is closed and off your listings.")
    return redirect("courses:teach_course", slug=course.slug)


@login_required
@require_http_methods(["GET", "POST"])
def teacher_handle(request: AuthedRequest) -> HttpResponse:
    """Choose the address of the teacher's public page, /t/<handle>/."""
    _teacher_only(request)
    user = request.user
    initial = {"handle": user.handle or course_services.suggest_handle(user)}
    form = HandleForm(
        request.POST if request.method == "POST" else None, initial=initial, teacher=user
    )
    if request.method == "POST" and form.is_valid():
        try:
            course_services.set_teacher_handle(teacher=user, handle=form.cleaned_data["handle"])
        except ValidationError as exc:
            _add_errors(form, exc, default_field="handle")
        else:
            messages.success(request, "Your public page address is saved.")
            return redirect("courses:teach_handle")
    status = 400 if form.is_bound else 200
    return render(request, "courses/teaching/handle.html", {"form": form}, status=status)


# --- Items -----------------------------------------------------------------------------------


def _manage_url(course: Course, item: CourseItem | None = None) -> str:
    url = reverse("courses:teach_course", args=[course.slug])
    return f"{url}#item-{item.pk}" if item is not None else url


@login_required
@require_http_methods(["GET", "POST"])
def item_new(request: AuthedRequest, slug: str, kind: str) -> HttpResponse:
    course = get_course_for_teacher(request.user, slug)
    if kind not in FORMS:
        raise Http404
    form_class = form_for(kind)
    template = "courses/teaching/item_form.html"
    base = {"course": course, "kind": kind, "kind_label": ItemKind(kind).label, "item": None}
    if request.method == "POST" and not _read_post(request):
        return _too_big(request, template, {**base, "form": form_class(course=course)})
    form = form_class(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        course=course,
    )
    if request.method == "POST" and form.is_valid():
        try:
            item = item_services.add_item(
                course=course,
                author=request.user,
                kind=kind,
                fields=form.item_fields(),
                upload=form.cleaned_data.get("upload"),
            )
        except ValidationError as exc:
            _add_errors(form, exc, default_field="upload")
        else:
            state = "added and published" if item.published else "added as a draft"
            messages.success(request, f"“{item.title}” is {state}.")
            return redirect(_manage_url(course, item))
    status = 400 if form.is_bound else 200
    return render(request, template, {**base, "form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def item_edit(request: AuthedRequest, slug: str, item_id: int) -> HttpResponse:
    item = get_item_for_teacher(request.user, slug, item_id)
    course = item.course
    form_class = form_for(item.kind)
    template = "courses/teaching/item_form.html"
    base = {
        "course": course,
        "kind": item.kind,
        "kind_label": item.get_kind_display(),
        "item": item,
    }
    if request.method == "POST" and not _read_post(request):
        return _too_big(
            request, template, {**base, "form": form_class(instance=item, course=course)}
        )
    form = form_class(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        instance=item,
        course=course,
    )
    if request.method == "POST" and form.is_valid():
        try:
            item_services.update_item(
                item=item, fields=form.item_fields(), upload=form.cleaned_data.get("upload")
            )
        except ValidationError as exc:
            _add_errors(form, exc, default_field="upload")
        else:
            messages.success(request, f"“{item.title}” is saved.")
            return redirect(_manage_url(course, item))
    status = 400 if form.is_bound else 200
    return render(request, template, {**base, "form": form}, status=status)


@login_required
@require_POST
def item_publish(request: AuthedRequest, slug: str, item_id: int) -> HttpResponse:
    item = get_item_for_teacher(request.user, slug, item_id)
    published = request.POST.get("published") == "1"
    item_services.set_item_published(item=item, published=published)
    if published:
        messages.success(request, f"“{item.title}” is published.")
    else:
        messages.success(request, f"“{item.title}” is hidden from students.")
    return redirect(_manage_url(item.course, item))


@login_required
@require_http_methods(["GET", "POST"])
def item_delete(request: AuthedRequest, slug: str, item_id: int) -> HttpResponse:
    item = get_item_for_teacher(request.user, slug, item_id)
    if request.method == "POST":
        item_services.delete_item(item=item)
        messages.success(request, f"“{item.title}” is deleted.")
        return redirect("courses:teach_course", slug=item.course.slug)
    submissions = Submission.objects.filter(item=item).count()
    return render(
        request,
        "courses/teaching/item_delete.html",
        {"item": item, "course": item.course, "submissions": submissions},
    )


@login_required
@require_POST
def item_move(request: AuthedRequest, slug: str, item_id: int) -> HttpResponse:
    """Move an item one place up or down: the ordering that works without JavaScript."""
    item = get_item_for_teacher(request.user, slug, item_id)
    direction = request.POST.get("direction", "")
    if direction not in ("up", "down"):
        return HttpResponse(
            "Say which way to move: up or down.", status=400, content_type="text/plain"
        )
    item_services.move_item(item=item, direction=direction)
    return redirect(_manage_url(item.course, item))


@login_required
@require_POST
def items_reorder(request: AuthedRequest, slug: str) -> HttpResponse:
    """Put every item in a new order, as sent by the drag-and-drop list."""
    course = get_course_for_teacher(request.user, slug)
    raw = [v for value in request.POST.getlist("order") for v in value.split(",") if v.strip()]
    try:
        ids = [int(value) for value in raw]
        item_services.reorder_items(course=course, item_ids=ids)
    except (ValueError, item_services.OrderError) as exc:
        message = (
            str(exc)
            if isinstance(exc, item_services.OrderError)
            else "The new order must list item numbers only."
        )
        if _wants_json(request):
            return JsonResponse({"ok": False, "error": message}, status=400)
        return HttpResponse(message, status=400, content_type="text/plain")
    if _wants_json(request):
        return JsonResponse({"ok": True})
    messages.success(request, "The new order is saved.")
    return redirect("courses:teach_course", slug=course.slug)
