"""Delete my account: the request page, the page after it, and the emailed cancel link."""

import time
from typing import Any

from allauth.account import app_settings as account_settings
from allauth.account.internal.flows.login import get_authentication_records
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from core import ratelimit
from core.http import AuthedRequest
from privacy import deletion
from privacy.models import DeletionRequest
from privacy.registry import registry

# Wrong passwords are counted per account, so guessing is slow even from many addresses.
CONFIRM_LIMIT = ratelimit.Limit("delete_account", count=5, window=15 * 60)


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label="Current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(
        label="I understand that my account and everything listed above will be erased",
        error_messages={
            "required": "Tick the box to confirm that you want to delete your account."
        },
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        if not user.has_usable_password():
            del self.fields["password"]

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That password is not right.", code="wrong_password")
        return password


def recently_signed_in(request: HttpRequest) -> bool:
    """Say whether this session signed in (with Google, say) within the re-authentication window.

    allauth has no re-authentication of its own for accounts without a
    password, so a fresh sign-in through Google stands in for it.
    """
    records = get_authentication_records(request, request.user)
    window = account_settings.REAUTHENTICATION_TIMEOUT
    return any(time.time() - float(r.get("at", 0)) < window for r in records)


@login_required
@require_http_methods(["GET", "POST"])
def delete_account(request: AuthedRequest) -> HttpResponse:
    """Show what deleting the account erases and keeps; on confirmation, deactivate it."""
    user = request.user
    form = DeleteAccountForm(request.POST or None, user=user)
    needs_reauth = not user.has_usable_password() and not recently_signed_in(request)
    warnings = registry.deletion_warnings_for(user)
    blockers = [warning for warning in warnings if warning.blocks]
    status = 200
    if request.method == "POST":
        verdict = ratelimit.hit(CONFIRM_LIMIT, f"user:{user.pk}")
        if not verdict.allowed:
            return ratelimit.too_many_requests(request, verdict.retry_after)
        if needs_reauth:
            form.add_error(None, "Confirm it's you with Google first, then delete the account.")
        for blocker in blockers:
            form.add_error(None, f"{blocker.title} {blocker.body}")
        if not needs_reauth and not blockers and form.is_valid():
            deletion.request_deletion(user=user, request=request)
            return redirect("privacy:deletion_scheduled")
        status = 400
    context = {
        "form": form,
        "needs_reauth": needs_reauth,
        "erased": deletion.erased_categories(),
        "kept": deletion.kept_categories(),
        "cooling_off_days": settings.ACCOUNT_DELETION_COOLING_OFF_DAYS,
        "warnings": warnings,
        "blocked": bool(blockers),
    }
    return render(request, "privacy/delete_account.html", context, status=status)


@require_http_methods(["GET"])
def deletion_scheduled(request: HttpRequest) -> HttpResponse:
    """Tell someone just signed out that their account will be erased, and how to cancel."""
    return render(
        request,
        "privacy/deletion_scheduled.html",
        {"cooling_off_days": settings.ACCOUNT_DELETION_COOLING_OFF_DAYS},
    )


@require_http_methods(["GET", "POST"])
def cancel_deletion(request: HttpRequest, token: str) -> HttpResponse:
    """Confirm (GET) and cancel (POST) a pending deletion from the emailed link."""
    found = deletion.request_for_token(token)
    if found is None:
        return render(request, "privacy/deletion_link_invalid.html", status=404)
    if found.state == DeletionRequest.State.CANCELLED:
        return render(request, "privacy/deletion_cancelled.html", {"already": True})
    if found.state != DeletionRequest.State.PENDING:
        return render(request, "privacy/deletion_too_late.html", status=410)
    if request.method == "POST":
        if not deletion.cancel(found):
            return render(request, "privacy/deletion_too_late.html", status=410)
        messages.success(request, "Your account is back. Sign in to carry on where you left off.")
        return redirect("account_login")
    return render(request, "privacy/deletion_cancel.html", {"deletion": found})
