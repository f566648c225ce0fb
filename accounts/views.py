from allauth.account.views import signup as allauth_signup
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import services, signup_rules
from accounts.forms import PreferencesForm, ProfileForm
from accounts.models import ColorScheme
from core.http import AuthedRequest, Request, safe_next_path
from core.ratelimit import Limit, client_ip, hit, too_many_requests

COLOR_SCHEME_COOKIE = "color_scheme"
_SESSION_ENDS = Limit("end_session", count=30, window=60)


@require_http_methods(["GET", "HEAD", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """Refuse sign-up from countries Lectern can't serve, before anything is stored."""
    country = signup_rules.blocked_signup_country(request)
    if country:
        return signup_closed(request, country)
    return allauth_signup(request)


def signup_closed(request: HttpRequest, country: str) -> HttpResponse:
    """Say that sign-up is closed in `country`, and why."""
    return render(request, "account/signup_closed.html", {"blocked_country": country}, status=403)


@login_required
@require_http_methods(["GET", "POST"])
def settings_profile(request: AuthedRequest) -> HttpResponse:
    form = ProfileForm(request.POST if request.method == "POST" else None, instance=request.user)
    if request.method == "POST":
        if form.is_valid():
            services.update_user(
                user=request.user, fields={f: form.cleaned_data[f] for f in form.changed_data}
            )
            messages.success(request, "Your profile is saved.")
            return redirect("accounts:profile")
        return render(request, "accounts/settings_profile.html", {"form": form}, status=400)
    return render(request, "accounts/settings_profile.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def settings_preferences(request: AuthedRequest) -> HttpResponse:
    form = PreferencesForm(
        request.POST if request.method == "POST" else None, instance=request.user
    )
    if request.method == "POST":
        if form.is_valid():
            services.update_user(
                user=request.user, fields={f: form.cleaned_data[f] for f in form.changed_data}
            )
            messages.success(request, "Your preferences are saved.")
            response = redirect("accounts:preferences")
            _remember_color_scheme(response, form.cleaned_data["color_scheme"])
            return response
        return render(request, "accounts/settings_preferences.html", {"form": form}, status=400)
    return render(request, "accounts/settings_preferences.html", {"form": form})


@require_POST
def set_color_scheme(request: Request) -> HttpResponse:
    """Switch light / dark / system, for visitors too; signed-in people keep it."""
    scheme = request.POST.get("color_scheme", "")
    if scheme not in ColorScheme.values:
        return HttpResponse("Unknown colour scheme.", status=400, content_type="text/plain")
    if request.user.is_authenticated:
        services.update_user(user=request.user, fields={"color_scheme": scheme})
    next_url = safe_next_path(request, request.POST.get("next")) or "/"
    response = HttpResponse(status=204) if request.htmx else redirect(next_url)
    _remember_color_scheme(response, scheme)
    return response


@login_required
@require_safe
def settings_sessions(request: AuthedRequest) -> HttpResponse:
    sessions = services.sessions_for(request.user)
    return render(
        request,
        "accounts/settings_sessions.html",
        {"sessions": sessions, "current_key": request.session.session_key},
    )


@login_required
@require_POST
def end_session(request: AuthedRequest, session_id: int) -> HttpResponse:
    verdict = hit(_SESSION_ENDS, f"user:{request.user.pk}:{client_ip(request)}")
    if not verdict.allowed:
        return too_many_requests(request, verdict.retry_after)
    if not services.end_session(user=request.user, session_id=session_id):
        return render(request, "404.html", status=404)
    messages.success(request, "That session has been signed out.")
    return redirect("accounts:sessions")


@login_required
@require_POST
def end_other_sessions(request: AuthedRequest) -> HttpResponse:
    count = services.end_other_sessions(user=request.user, request=request)
    messages.success(
        request,
        f"Signed out {count} other session{'s' if count != 1 else ''}."
        if count
        else "No other sessions were active.",
    )
    return redirect("accounts:sessions")


def _remember_color_scheme(response: HttpResponse, scheme: str) -> None:
    response.set_cookie(
        COLOR_SCHEME_COOKIE,
        scheme,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=not settings.DEBUG,
        httponly=True,
    )
