"""Enrolling: the storefront's enrol, register and waitlist actions, invitations, the roster."""

from typing import Any

from allauth.account.forms import UserTokenForm
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import signup_rules
from accounts import views as account_views
from accounts.models import User
from core.http import AuthedRequest, Request, safe_next_path
from core.ratelimit import Limit, client_ip, hit, too_many_requests
from courses import access, enrolment_policy, selectors
from courses.forms.enrolment import AddStudentForm, ChoosePasswordForm, GuestRegistrationForm
from courses.models import Course, Enrollment, WaitlistEntry
from courses.services import enrolment as services
from courses.services import invitations, registration

GUEST_REGISTRATIONS = Limit("guest_registration", count=5, window=3600)
_INVITE_SESSION_KEY = "courses_invite_key"
_INVITE_URL_KEY = "set-password"


def storefront_url(course: Course) -> str:
    """Return the course's public page; its enrol page while the storefront isn't routed."""
    try:
        return course.get_absolute_url()
    except NoReverseMatch:
        return reverse("courses:enroll", args=[course.slug])


def enrol_box_context(user: Any, course: Course) -> dict[str, Any]:
    """Return what `courses/enrolment/_enrol_box.html` needs for `user` and `course`."""
    return {"course": course, "answer": enrolment_policy.answer_for(user, course)}


def _course_for_enrolment(user: Any, slug: str) -> tuple[Course, enrolment_policy.Answer]:
    """Return a course `user` may reach with the policy's answer for them; else 404."""
    course = get_object_or_404(
        Course.objects.select_related("teacher").with_enrolment_facts(), slug=slug
    )
    answer = enrolment_policy.answer_for(user, course)
    if not answer.reachable:
        raise Http404
    return course, answer


# --- Students and visitors ---------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def enroll(request: AuthedRequest, slug: str) -> HttpResponse:
    """Enrol in one click (POST); GET shows the same choice on its own page."""
    course, answer = _course_for_enrolment(request.user, slug)
    if request.method == "GET":
        if answer.offer == enrolment_policy.Offer.GO_TO_COURSE:
            return redirect("courses:course", slug=course.slug)
        return render(
            request, "courses/enrolment/enroll.html", {"course": course, "answer": answer}
        )
    try:
        services.enroll_student(course=course, student=request.user)
    except services.EnrolmentError as error:
        messages.warning(request, error.message)
        return redirect(storefront_url(course))
    messages.success(request, f"You're enrolled in {course.title}. Welcome!")
    return redirect("courses:course", slug=course.slug)


@never_cache
@require_http_methods(["GET", "POST"])
def register(request: Request, slug: str) -> HttpResponse:
    """Hold a seat for a visitor who registers for a free course with a name and an email."""
    if request.user.is_authenticated:
        course, _ = _course_for_enrolment(request.user, slug)
        return redirect("courses:enroll", slug=course.slug)
    course, answer = _course_for_enrolment(request.user, slug)
    country = signup_rules.blocked_signup_country(request)
    if country:
        return account_views.signup_closed(request, country)
    context = {"course": course, "answer": answer}
    if request.method == "GET":
        return render(
            request, "courses/enrolment/register.html", {**context, "form": GuestRegistrationForm()}
        )
    verdict = hit(GUEST_REGISTRATIONS, client_ip(request))
    if not verdict.allowed:
        return too_many_requests(request, verdict.retry_after)
    form = GuestRegistrationForm(request.POST)
    if form.is_valid():
        try:
            registration.register_guest(
                course=course,
                email=form.cleaned_data["email"],
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
                country=signup_rules.request_country(request),
            )
        except services.EnrolmentError as error:
            form.add_error(None, error.message)
        else:
            return render(
                request,
                "courses/enrolment/registered.html",
                {
                    "course": course,
                    "email": form.cleaned_data["email"],
                    "hold_hours": settings.GUEST_HOLD_HOURS,
                },
            )
    return render(request, "courses/enrolment/register.html", {**context, "form": form}, status=400)


@login_required
@require_POST
def join_waitlist(request: AuthedRequest, slug: str) -> HttpResponse:
    course, _ = _course_for_enrolment(request.user, slug)
    try:
        result = services.join_waitlist(course=course, student=request.user)
    except services.EnrolmentError as error:
        messages.warning(request, error.message)
        return redirect(storefront_url(course))
    if isinstance(result, Enrollment):
        messages.success(request, f"A seat was free: you're enrolled in {course.title}.")
        return redirect("courses:course", slug=course.slug)
    messages.success(request, "You're on the waitlist. We'll email you as soon as a seat is yours.")
    return redirect(storefront_url(course))


@login_required
@require_POST
def leave_waitlist(request: AuthedRequest, slug: str) -> HttpResponse:
    course = get_object_or_404(Course, slug=slug)
    if not services.leave_waitlist(course=course, student=request.user):
        raise Http404
    messages.success(request, "You've left the waitlist.")
    return redirect(storefront_url(course))


@never_cache
@require_http_methods(["GET", "POST"])
def accept_invite(request: Request, uidb36: str, key: str) -> HttpResponse:
    """Let an invited person choose their first password, then open their course.

    Like allauth's password reset, the key moves from the URL into the session
    at once, so it can't leak through the Referer header of the next page.
    """
    if key != _INVITE_URL_KEY:
        if _invited_user(uidb36, key) is None:
            return _invite_expired(request)
        request.session[_INVITE_SESSION_KEY] = key
        path = reverse("courses:accept_invite", kwargs={"uidb36": uidb36, "key": _INVITE_URL_KEY})
        query = request.META.get("QUERY_STRING", "")
        return redirect(f"{path}?{query}" if query else path)
    key = request.session.get(_INVITE_SESSION_KEY, "")
    user = _invited_user(uidb36, key)
    if user is None:
        return _invite_expired(request)
    form = ChoosePasswordForm(
        request.POST if request.method == "POST" else None, user=user, temp_key=key
    )
    next_url = _safe_next(request)
    if request.method == "POST":
        if form.is_valid():
            confirmed = registration.activate_invited_account(
                user=user, password=form.cleaned_data["password1"]
            )
            if request.user.is_authenticated and request.user.pk != user.pk:
                logout(request)
            request.session.pop(_INVITE_SESSION_KEY, None)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, "Your password is set. Welcome to Lectern!")
            missed = [c.course for c in confirmed if not c.enrolled]
            for course in missed:
                messages.warning(
                    request,
                    f"{course.title} filled up before you confirmed your address: "
                    "you're first in line on its waitlist.",
                )
            if missed and len(confirmed) == 1:
                return redirect(storefront_url(missed[0]))
            return redirect(next_url or "courses:my_courses")
        status = 400
    else:
        status = 200
    context = {"form": form, "invited": user, "next": next_url}
    return render(request, "courses/enrolment/accept_invite.html", context, status=status)


def _invited_user(uidb36: str, key: str) -> User | None:
    """Return the not-yet-claimed account the link is for, when the key is still good."""
    # allauth's form fails on an id that isn't base 36 (a NUL byte, say) instead of refusing it.
    if not key or not (uidb36.isascii() and uidb36.isalnum()):
        return None
    token_form = UserTokenForm(data={"uidb36": uidb36, "key": key})
    if not token_form.is_valid():
        return None
    user = token_form.reset_user
    return user if user is not None and invitations.is_unclaimed(user) else None


def _invite_expired(request: Request) -> HttpResponse:
    return render(request, "courses/enrolment/invite_expired.html", status=400)


def _safe_next(request: Request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next")
    return safe_next_path(request, candidate) or ""


# --- The teacher's roster ---------------------------------------------------------------------


def _render_roster(
    request: AuthedRequest, course: Course, form: AddStudentForm, status: int = 200
) -> HttpResponse:
    enrolled, held, waiting = selectors.roster(course)
    context = {
        "course": course,
        "enrollments": list(enrolled),
        "held": list(held),
        "waiting": list(waiting),
        "answer": enrolment_policy.answer_for(request.user, course),
        "form": form,
    }
    return render(request, "courses/enrolment/roster.html", context, status=status)


def _course_for_roster(user: Any, slug: str) -> Course:
    queryset = Course.objects.select_related("teacher").with_enrolment_facts()
    return access.get_course_for_teacher(user, slug, queryset)


@login_required
@require_safe
def roster(request: AuthedRequest, slug: str) -> HttpResponse:
    course = _course_for_roster(request.user, slug)
    return _render_roster(request, course, AddStudentForm())


@login_required
@require_POST
def add_student(request: AuthedRequest, slug: str) -> HttpResponse:
    course = _course_for_roster(request.user, slug)
    form = AddStudentForm(request.POST)
    if form.is_valid():
        email = form.cleaned_data["email"]
        try:
            result = services.add_student(
                course=course,
                email=email,
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
            )
        except services.EnrolmentError as error:
            form.add_error(
                "email" if isinstance(error, services.OwnCourseError) else None, error.message
            )
        else:
            if result.already_enrolled:
                messages.info(request, f"{email} is already enrolled.")
            elif result.invited:
                messages.success(
                    request, f"Invitation sent to {email}: they're enrolled and can set a password."
                )
            else:
                messages.success(request, f"{email} is enrolled and has been told by email.")
            return redirect("courses:roster", slug=course.slug)
    return _render_roster(request, course, form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def remove_student(request: AuthedRequest, slug: str, student_id: int) -> HttpResponse:
    """Confirm (GET), then remove (POST) a student or a waiting person from the course."""
    course = access.get_course_for_teacher(request.user, slug)
    # Looked up as `student__pk`: a primary-key lookup treats an id too large for the
    # column as no match, where `student_id` would send it to the database and fail.
    enrollment = (
        Enrollment.objects.filter(
            course=course,
            student__pk=student_id,
            status__in=[Enrollment.Status.ACTIVE, Enrollment.Status.HELD],
        )
        .select_related("student")
        .first()
    )
    entry = (
        WaitlistEntry.objects.filter(course=course, student__pk=student_id)
        .select_related("student")
        .first()
    )
    if enrollment is None and entry is None:
        raise Http404
    student = enrollment.student if enrollment is not None else entry.student  # type: ignore[union-attr]
    if request.method == "POST":
        services.remove_student(course=course, student=student)
        messages.success(request, f"{student.get_full_name() or student.email} was removed.")
        return redirect("courses:roster", slug=course.slug)
    return render(
        request,
        "courses/enrolment/remove_student.html",
        {"course": course, "student": student, "enrollment": enrollment},
    )
