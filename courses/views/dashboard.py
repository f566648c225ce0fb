"""The landing page for visitors and the dashboard a signed-in person starts from."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_safe

from core.http import AuthedRequest
from courses import selectors, selling
from courses.services import courses as course_services
from onboarding import selectors as onboarding


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """Introduce Lectern to visitors, with public courses open for enrolment."""
    if request.user.is_authenticated:
        return redirect("dashboard")
    return render(request, "courses/home.html", {"featured": course_services.featured_courses()})


@login_required
@require_safe
def dashboard(request: AuthedRequest) -> HttpResponse:
    """Show a teacher their courses and what needs attention; a student what they follow."""
    user = request.user
    # The onboarding survey's answers choose what a new account sees first.
    prefs = onboarding.preferences_for(user)
    context: dict[str, Any] = {
        "survey_invite": onboarding.should_invite(user),
        "survey_asked": prefs.asked,
    }
    if user.is_teacher:
        teaching = list(course_services.courses_for_teacher(user))
        context["teaching"] = [c for c in teaching if not c.is_archived]
        context["archived"] = [c for c in teaching if c.is_archived]
        context["has_published"] = any(c.published_at for c in teaching)
        context["selling"] = selling.describe(user)
        if not teaching:
            context["starters"] = onboarding.suggested_starters(user)
    if user.is_student or not user.is_teacher:
        context["enrollments"] = list(selectors.student_courses(user))
        if prefs.first_view == onboarding.FIND_COURSE and not context["enrollments"]:
            context["open_courses"] = course_services.featured_courses(limit=3)
    return render(request, "courses/dashboard.html", context)
