"""Settings → Privacy: what Lectern holds about the person, their consents, export and deletion."""

import datetime as dt
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Min
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from accounts import services as account_services
from core.http import AuthedRequest
from notifications import services as notification_services
from notifications.models import EmailMode, preference_for
from privacy import export
from privacy.forms import ConsentsForm
from privacy.registry import Basis, Entry, registry


@dataclass
class Category:
    """One category of personal data as the person sees it: what, why, how much, how long."""

    name: str
    entries: list[Entry] = field(default_factory=list)
    count: int = 0
    since: dt.datetime | dt.date | None = None

    def add(self, entry: Entry, count: int, since: dt.datetime | dt.date | None) -> None:
        self.entries.append(entry)
        self.count += count
        if since is not None and (
            self.since is None or _as_datetime(since) < _as_datetime(self.since)
        ):
            self.since = since

    @property
    def purposes(self) -> list[str]:
        return list(dict.fromkeys(e.purpose for e in self.entries))

    @property
    def bases(self) -> list[Basis]:
        return list(dict.fromkeys(e.basis for e in self.entries))

    @property
    def retention(self) -> list[str]:
        return list(dict.fromkeys(e.retention.description for e in self.entries))


def _as_datetime(value: dt.datetime | dt.date) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.combine(value, dt.time.min, tzinfo=dt.UTC)


def _held_by(user: object) -> list[Category]:
    """Count each registry entry's rows for `user`: one aggregate query per entry."""
    categories: dict[str, Category] = {}
    for entry in registry:
        aggregates = {"count": Count("pk")}
        if entry.dated_by:
            aggregates["since"] = Min(entry.dated_by)  # type: ignore[assignment]
        found = entry.rows_for(user).aggregate(**aggregates)
        category = categories.setdefault(entry.category, Category(entry.category))
        category.add(entry, found["count"], found.get("since") if found["count"] else None)
    return list(categories.values())


def _email_on(mode: str) -> bool:
    return mode != EmailMode.OFF


@login_required
@require_safe
def privacy_dashboard(request: AuthedRequest) -> HttpResponse:
    """Show every category held about the person, their consents, export and deletion."""
    user = request.user
    categories = _held_by(user)
    consents = ConsentsForm(
        initial={
            "email_notifications": _email_on(preference_for(user).email_mode),
            "send_read_receipts": user.send_read_receipts,
        }
    )
    return render(
        request,
        "privacy/dashboard.html",
        {
            "held": [c for c in categories if c.count],
            "none_held": [c for c in categories if not c.count],
            "consents": consents,
            **export.panel_context(user),
        },
    )


@login_required
@require_POST
def update_consents(request: AuthedRequest) -> HttpResponse:
    """Switch notification email and read receipts on or off."""
    user = request.user
    form = ConsentsForm(request.POST)
    form.is_valid()  # two optional checkboxes: any submission is valid
    pref = preference_for(user)
    wants_email = form.cleaned_data["email_notifications"]
    if wants_email != _email_on(pref.email_mode):
        # Turning email back on restores "right away"; someone on the daily digest who
        # leaves the box ticked keeps their digest.
        notification_services.save_preferences(
            user=user,
            email_mode=EmailMode.IMMEDIATE if wants_email else EmailMode.OFF,
            quiet_hours_start=pref.quiet_hours_start,
            quiet_hours_end=pref.quiet_hours_end,
            digest_hour=pref.digest_hour,
        )
    receipts = form.cleaned_data["send_read_receipts"]
    if receipts != user.send_read_receipts:
        account_services.update_user(user=user, fields={"send_read_receipts": receipts})
    messages.success(request, "Your privacy choices are saved.")
    return redirect("privacy:dashboard")
