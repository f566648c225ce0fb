"""Course AI in the admin: the request log, units, consents and policy summaries, read-only.

Only the app's own services write these rows (`ai.services`), so staff look
and never edit. The one thing staff may do is delete a policy summary: the
next visitor who asks for that page's summary gets a new one. The request
log and the units list open with this month's totals across the site.
"""

from datetime import UTC, date, datetime
from typing import Any

from django.contrib import admin
from django.db.models import Count, F, Q, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_http_methods

from ai import services
from ai.models import AiConsent, AiRequest, AiUsageMonth, PolicySummary

TOTALS_TEMPLATE = "admin/ai/change_list_totals.html"
MONTHS_IN_FILTER = 12


def _month_start(day: date) -> datetime:
    return datetime(day.year, day.month, 1, tzinfo=UTC)


def _next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def _recent_months(count: int) -> list[date]:
    """Return the first days of this month and the `count - 1` before it, newest first."""
    months = [services.month_of()]
    while len(months) < count:
        first = months[-1]
        months.append(
            date(first.year - 1, 12, 1)
            if first.month == 1
            else first.replace(month=first.month - 1)
        )
    return months


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the app's services write: staff see them and change nothing."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class MonthFilter(admin.SimpleListFilter):
    """Requests of one calendar month (UTC), the way units are counted."""

    title = "month (UTC)"
    parameter_name = "month"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(f"{month:%Y-%m}", f"{month:%B %Y}") for month in _recent_months(MONTHS_IN_FILTER)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[AiRequest]) -> QuerySet[AiRequest]:
        value = self.value()
        if not value:
            return queryset
        try:
            month = datetime.strptime(value, "%Y-%m").date()
        except ValueError:
            return queryset.none()
        return queryset.filter(
            created_at__gte=_month_start(month), created_at__lt=_month_start(_next_month(month))
        )


def _this_month_totals() -> dict[str, Any]:
    """Return this month's requests, answers, refusals, failures, units and tokens, site-wide."""
    month = services.month_of()
    refused = [AiRequest.Outcome.REFUSED_CONSENT, AiRequest.Outcome.REFUSED_LIMIT]
    failed = [AiRequest.Outcome.ENDPOINT_ERROR, AiRequest.Outcome.TIMEOUT]
    totals = AiRequest.objects.filter(created_at__gte=_month_start(month)).aggregate(
        requests=Count("id"),
        answered=Count("id", filter=Q(outcome=AiRequest.Outcome.OK)),
        refused=Count("id", filter=Q(outcome__in=refused)),
        failed=Count("id", filter=Q(outcome__in=failed)),
        units=Sum("units"),
        tokens=Sum(F("prompt_tokens") + F("completion_tokens")),
    )
    teachers = AiUsageMonth.objects.filter(month=month, units__gt=0).aggregate(
        teachers=Count("id"), counted=Sum("units")
    )
    return {
        "month": month,
        **{key: value or 0 for key, value in totals.items()},
        **{key: value or 0 for key, value in teachers.items()},
    }


class TotalsAdmin(ReadOnlyAdmin):
    """Open the list with this month's site-wide AI totals."""

    change_list_template = TOTALS_TEMPLATE

    @method_decorator(require_http_methods(["GET", "HEAD", "POST"]))
    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra_context = {**(extra_context or {}), "ai_totals": _this_month_totals()}
        return super().changelist_view(request, extra_context)


@admin.register(AiRequest)
class AiRequestAdmin(TotalsAdmin):
    """Every AI request, answered or refused: who, for which course, and what it cost."""

    list_display = [
        "created_at",
        "action",
        "outcome",
        "course",
        "user",
        "teacher",
        "units",
        "tokens",
        "latency",
    ]
    list_filter = ["action", "outcome", MonthFilter]
    list_select_related = ["course", "user", "teacher"]
    search_fields = ["user__email", "teacher__email", "course__title", "course__slug"]
    show_full_result_count = False
    readonly_fields = [
        "created_at",
        "action",
        "outcome",
        "error",
        "user",
        "teacher",
        "course",
        "context_item_ids",
        "prompt_tokens",
        "completion_tokens",
        "units",
        "model",
        "latency_ms",
    ]

    @admin.display(description="tokens")
    def tokens(self, row: AiRequest) -> int:
        return row.prompt_tokens + row.completion_tokens

    @admin.display(description="latency", ordering="latency_ms")
    def latency(self, row: AiRequest) -> str:
        return f"{row.latency_ms / 1000:.1f} s" if row.latency_ms else "—"


@admin.register(AiUsageMonth)
class AiUsageMonthAdmin(TotalsAdmin):
    """Each teacher's units per calendar month (UTC): what their allowance is checked against."""

    list_display = ["month_name", "teacher", "units"]
    list_select_related = ["teacher"]
    search_fields = ["teacher__email"]
    date_hierarchy = "month"
    ordering = ["-month", "-units"]
    readonly_fields = ["teacher", "month", "units"]
    show_full_result_count = False

    @admin.display(description="month", ordering="month")
    def month_name(self, row: AiUsageMonth) -> str:
        return f"{row.month:%B %Y}"


@admin.register(AiConsent)
class AiConsentAdmin(ReadOnlyAdmin):
    """Who agreed to AI features, when, and to which AI service."""

    list_display = ["user", "given", "given_at", "withdrawn_at", "endpoint_host"]
    list_filter = ["given", "endpoint_host"]
    list_select_related = ["user"]
    search_fields = ["user__email", "endpoint_host"]
    readonly_fields = ["user", "given", "given_at", "withdrawn_at", "endpoint_host"]


@admin.register(PolicySummary)
class PolicySummaryAdmin(ReadOnlyAdmin):
    """The AI summaries of the policy pages, one per version of each page.

    Deleting one is how staff get a better summary: the next visitor who asks
    for that version's summary has a new one written.
    """

    list_display = ["page", "version", "model", "created_at"]
    list_filter = ["page"]
    readonly_fields = ["page", "sha256", "model", "created_at", "text"]

    @admin.display(description="version", ordering="sha256")
    def version(self, row: PolicySummary) -> str:
        return row.version

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return admin.ModelAdmin.has_delete_permission(self, request, obj)
