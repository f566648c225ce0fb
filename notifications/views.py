from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.models import User
from core.http import AuthedRequest, safe_next_path
from courses.models import Course, Enrollment
from notifications import delivery, services
from notifications.forms import MuteForm, PreferencesForm
from notifications.models import CourseMute, EmailMode, Notification, preference_for

PAGE_SIZE = 25


def _safe_local_url(request: HttpRequest, url: str) -> str | None:
    """Return `url` when it stays on this site, else None."""
    if not url:
        return None
    hosts = {request.get_host(), urlsplit(settings.SITE_URL).netloc}
    if url_has_allowed_host_and_scheme(url, allowed_hosts=hosts, require_https=request.is_secure()):
        return url
    return None


def _get_own(request: AuthedRequest, notification_id: int) -> Notification:
    # Someone else's notification does not exist, as far as this person can tell.
    return get_object_or_404(Notification, pk=notification_id, recipient=request.user)


@login_required
@require_safe
def notification_list(request: AuthedRequest) -> HttpResponse:
    """List the person's notifications, newest first; `?show=unread` keeps only unread ones."""
    unread_only = request.GET.get("show") == "unread"
    rows = Notification.objects.filter(recipient=request.user).select_related("course", "actor")
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    page = Paginator(rows.order_by("-created_at", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "notifications/list.html",
        {"page": page, "unread_only": unread_only},
    )


@login_required
@require_safe
def open_notification(request: AuthedRequest, notification_id: int) -> HttpResponse:
    """Mark the notification read and follow its link (only ever to a page of this site)."""
    notification = _get_own(request, notification_id)
    services.mark_read(notification=notification)
    return redirect(_safe_local_url(request, notification.url) or "notifications:list")


@login_required
@require_POST
def mark_read(request: AuthedRequest, notification_id: int) -> HttpResponse:
    notification = _get_own(request, notification_id)
    # Read the form first: a body that can't be parsed is refused before anything changes.
    next_path = safe_next_path(request, request.POST.get("next"))
    services.mark_read(notification=notification)
    return redirect(next_path or "notifications:list")


@login_required
@require_POST
def mark_all_read(request: AuthedRequest) -> HttpResponse:
    changed = services.mark_all_read(user=request.user)
    if changed:
        messages.success(
            request, f"Marked {changed} notification{'s' if changed != 1 else ''} as read."
        )
    return redirect(safe_next_path(request, request.POST.get("next")) or "notifications:list")


def _courses_for(user: User) -> Any:
    """Courses the person teaches or follows, each with whether they muted it."""
    return (
        Course.objects.filter(
            Q(teacher=user)
            | Q(
                pk__in=Enrollment.objects.filter(
                    student=user, status=Enrollment.Status.ACTIVE
                ).values("course_id")
            )
        )
        .annotate(muted=Exists(CourseMute.objects.filter(user=user, course=OuterRef("pk"))))
        .select_related("teacher")
        .order_by("title", "pk")
    )


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: AuthedRequest) -> HttpResponse:
    """Settings → Notifications: email choice, quiet hours, digest time and muted courses."""
    pref = preference_for(request.user)
    form = PreferencesForm(request.POST if request.method == "POST" else None, instance=pref)
    if request.method == "POST" and form.is_valid():
        services.save_preferences(
            user=request.user,
            email_mode=form.cleaned_data["email_mode"],
            quiet_hours_start=form.cleaned_data["quiet_hours_start"],
            quiet_hours_end=form.cleaned_data["quiet_hours_end"],
            digest_hour=form.cleaned_data["digest_hour"],
        )
        messages.success(request, "Your notification settings are saved.")
        return redirect("notifications:preferences")
    context = {"form": form, "courses": list(_courses_for(request.user))}
    status = 400 if request.method == "POST" else 200
    return render(request, "notifications/preferences.html", context, status=status)


@login_required
@require_POST
def mute_course(request: AuthedRequest, course_id: int) -> HttpResponse:
    """Mute or unmute one of the person's courses."""
    course = get_object_or_404(_courses_for(request.user), pk=course_id)
    form = MuteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose whether to mute or unmute the course.")
        return redirect("notifications:preferences")
    if form.cleaned_data["muted"]:
        services.mute_course(user=request.user, course=course)
        messages.success(request, f"{course.title} is muted.")
    else:
        services.unmute_course(user=request.user, course=course)
        messages.success(request, f"{course.title} is no longer muted.")
    return redirect("notifications:preferences")


def _masked(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}{'•' * min(max(len(local) - 1, 1), 6)}@{domain}"


@csrf_exempt  # RFC 8058 one-click: mail providers POST without cookies; the token authorises.
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """Turn off notification email for the token's person, all of it or one course's.

    GET only shows a confirmation with a button, so a link scanner opening the
    URL changes nothing; POST (the button, or the mail provider's one-click
    request) applies it. No login: the signed token is the authority.
    """
    try:
        user_id, scope = delivery.read_unsubscribe_token(token)
    except signing.BadSignature:
        raise Http404("This unsubscribe link is not valid.") from None
    user = get_object_or_404(User, pk=user_id, is_active=True)
    course = None
    if scope != delivery.ALL:
        course = get_object_or_404(Course, pk=scope)
    if request.method == "POST":
        if course is None:
            services.set_email_mode(user=user, email_mode=EmailMode.OFF)
        else:
            services.mute_course(user=user, course=course)
    return render(
        request,
        "notifications/unsubscribe.html",
        {
            "done": request.method == "POST",
            "course": course,
            "masked_email": _masked(user.email),
            "token": token,
        },
    )
