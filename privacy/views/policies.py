from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from core.http import safe_next_path
from privacy import cookies as privacy_cookies
from privacy import documents, services
from privacy import subprocessors as privacy_subprocessors
from privacy.forms import AcceptPoliciesForm
from privacy.middleware import SESSION_KEY
from privacy.models import PolicyAcceptance


@require_safe
def policy_page(request: HttpRequest, slug: str) -> HttpResponse:
    doc = documents.documents().get(slug)
    if doc is None:
        raise Http404
    return render(
        request,
        "privacy/policy.html",
        {"doc": doc, "all_docs": documents.documents().values()},
    )


@login_required
@require_http_methods(["GET", "POST"])
def accept_policies(request: HttpRequest) -> HttpResponse:
    next_url = safe_next_path(request, request.POST.get("next") or request.GET.get("next")) or ""
    pending = services.missing_acceptances(request.user)
    if not pending:
        return redirect(next_url or "dashboard")
    # Bind on every POST, even an empty one, so a missing tick shows its message.
    form = AcceptPoliciesForm(request.POST if request.method == "POST" else None, docs=pending)
    if request.method == "POST" and form.is_valid():
        services.record_acceptances(user=request.user, docs=pending)
        request.session.pop(SESSION_KEY, None)
        messages.success(request, "Thank you — you're all set.")
        return redirect(next_url or "dashboard")
    return render(
        request,
        "privacy/accept.html",
        {
            "form": form,
            "pending": pending,
            "next": next_url,
            # Someone invited, or who registered or paid with just a name and an email,
            # meets the policies here for the first time.
            "first_time": not PolicyAcceptance.objects.filter(
                user_id=request.user.pk or 0
            ).exists(),
        },
        status=400 if request.method == "POST" else 200,
    )


@require_safe
def subprocessors(request: HttpRequest) -> HttpResponse:
    """List the outside services this site is configured to send personal data to."""
    return render(
        request,
        "privacy/subprocessors.html",
        {
            "subprocessors": privacy_subprocessors.configured(),
            "all_docs": documents.documents().values(),
        },
    )


@require_safe
def cookies(request: HttpRequest) -> HttpResponse:
    """List every cookie this site sets, what for and for how long."""
    return render(
        request,
        "privacy/cookies.html",
        {"cookies": privacy_cookies.declared(), "all_docs": documents.documents().values()},
    )
