"""Settings → Privacy: what Lectern holds about the person, their consents, export and deletion."""

import datetime as dt
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Min
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from core.http import AuthedRequest
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


@login_required
@require_safe
def privacy_dashboard(request: AuthedRequest) -> HttpResponse:
    """Show every category held about the person, their consents, export and deletion."""
    user = request.user
    categories = _held_by(user)
    consents = ConsentsForm(initial={c.name: c.given(user) for c in registry.consents})
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
    """Record each declared choice (notification email, read receipts...) as submitted."""
    user = request.user
    form = ConsentsForm(request.POST)
    form.is_valid()  # optional checkboxes only: any submission is valid
    for consent in form.consents:
        consent.save(user, form.cleaned_data[consent.name])
    messages.success(request, "Your privacy choices are saved.")
    return redirect("privacy:dashboard")
