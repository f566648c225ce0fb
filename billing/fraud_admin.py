"""Fraud signals in the admin: staff's review queue, and the declined cards behind card testing.

Open signals come first. Each is dismissed or escalated with a note, and
escalating can pause the teacher's sales; the pause stays until a staff
member lifts it (`billing.services.fraud_review`). Signals are never edited
or deleted by hand: the retention sweep removes them after 24 months.
"""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from accounts.models import User
from billing.models import CardFailure, FraudSignal
from billing.services import fraud_review

Status = FraudSignal.Status


class SalesFilter(admin.SimpleListFilter):
    title = "sales"
    parameter_name = "sales"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("paused", "Paused now"), ("resumed", "Paused, then resumed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "paused":
            return queryset.filter(sales_paused_at__isnull=False, sales_resumed_at__isnull=True)
        if self.value() == "resumed":
            return queryset.filter(sales_resumed_at__isnull=False)
        return queryset


class ReviewForm(forms.Form):
    note = forms.CharField(
        label="Note",
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text="Why: the next reviewer reads it. The teacher never sees it.",
    )


def _admin_link(viewname: str, pk: Any, label: str) -> SafeString | str:
    try:
        return format_html('<a href="{}">{}</a>', reverse(viewname, args=[pk]), label)
    except NoReverseMatch:
        return label


def _where(entry: dict[str, Any]) -> SafeString | str:
    """Where a link was found, linked to the row in the admin when it has a page there."""
    if entry.get("in") == "message":
        label = f"message {entry.get('message_id')}"
        return _admin_link("admin:messaging_message_change", entry.get("message_id"), label)
    if entry.get("in") == "course item":
        label = f"item {entry.get('item_id')} of course {entry.get('course_id')}"
        return _admin_link("admin:courses_courseitem_change", entry.get("item_id"), label)
    label = f"course {entry.get('course_id')}"
    return _admin_link("admin:courses_course_change", entry.get("course_id"), label)


def _links_table(entries: list[dict[str, Any]]) -> SafeString:
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
        (
            (
                _where(entry),
                entry.get("field", ""),
                entry.get("provider", ""),
                entry.get("url", ""),
                entry.get("snippet", ""),
            )
            for entry in entries
        ),
    )
    return format_html(
        "<table><thead><tr><th>Found in</th><th>Field</th><th>Provider</th><th>Link</th>"
        "<th>Text around it</th></tr></thead><tbody>{}</tbody></table>",
        rows,
    )


_ID_LISTS = {
    "purchase_ids": "admin:billing_purchase_changelist",
    "coupon_ids": "admin:billing_coupon_changelist",
}


def _value(key: str, value: Any) -> SafeString | str:
    if key in _ID_LISTS and isinstance(value, list):
        ids = ",".join(str(pk) for pk in value if isinstance(pk, int))
        url = f"{reverse(_ID_LISTS[key])}?id__in={ids}"
        return format_html('<a href="{}">{} (open the list)</a>', url, len(value))
    if isinstance(value, dict):
        return ", ".join(f"{name}: {count}" for name, count in value.items())
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def render_evidence(evidence: Any) -> SafeString:
    """The evidence as a small table a reviewer can read: counts, rates, and links found."""
    if not isinstance(evidence, dict) or not evidence:
        return format_html("<p>{}</p>", "No evidence recorded.")
    facts = [(key, value) for key, value in evidence.items() if key != "links"]
    table = format_html_join(
        "",
        "<tr><th>{}</th><td>{}</td></tr>",
        ((key.replace("_", " ").capitalize(), _value(key, value)) for key, value in facts),
    )
    links = evidence.get("links")
    links_html = _links_table(links) if isinstance(links, list) and links else ""
    return format_html("<table>{}</table>{}", table, links_html)


@admin.register(FraudSignal)
class FraudSignalAdmin(admin.ModelAdmin):
    """The review queue: open signals first, each with its evidence; dismiss, escalate, lift."""

    list_display = [
        "summary",
        "teacher",
        "rule",
        "status",
        "sales_paused",
        "created_at",
        "reviewed_by",
    ]
    list_filter = ["status", "rule", SalesFilter, "created_at"]
    list_select_related = ["teacher", "reviewed_by"]
    search_fields = ["teacher__email", "summary"]
    actions = ["dismiss", "escalate", "escalate_and_pause", "lift_pause"]
    fieldsets = [
        (None, {"fields": ["teacher_link", "rule", "status", "summary", "created_at"]}),
        ("Evidence", {"fields": ["evidence_view"]}),
        ("Review", {"fields": ["reviewed_at", "reviewed_by", "review_note"]}),
        ("Sales", {"fields": ["sales_paused_at", "sales_resumed_at", "resumed_by"]}),
    ]
    readonly_fields = [
        "teacher_link",
        "rule",
        "status",
        "summary",
        "created_at",
        "evidence_view",
        "reviewed_at",
        "reviewed_by",
        "review_note",
        "sales_paused_at",
        "sales_resumed_at",
        "resumed_by",
    ]

    def get_ordering(self, request: HttpRequest) -> list[Any]:
        open_first = Case(
            When(status=Status.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField()
        )
        return [open_first.asc(), "-created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(boolean=True, description="Sales paused")
    def sales_paused(self, signal: FraudSignal) -> bool:
        return signal.pauses_sales

    @admin.display(description="Teacher")
    def teacher_link(self, signal: FraudSignal) -> SafeString | str:
        teacher: User | None = signal.teacher
        if teacher is None:
            return "Account deleted"
        sales = f"{reverse('admin:billing_purchase_changelist')}?teacher__id__exact={teacher.pk}"
        return format_html(
            '{} · <a href="{}">their sales</a>',
            _admin_link("admin:accounts_user_change", teacher.pk, teacher.email),
            sales,
        )

    @admin.display(description="Evidence")
    def evidence_view(self, signal: FraudSignal) -> SafeString:
        return render_evidence(signal.evidence)

    # --- Review actions ------------------------------------------------------------------------

    def _refused(
        self, request: HttpRequest, signal: FraudSignal, refused: fraud_review.ReviewError
    ) -> None:
        self.message_user(request, f"{signal.summary} — {refused.message}", messages.WARNING)

    def _review(
        self,
        request: HttpRequest,
        queryset: QuerySet[FraudSignal],
        *,
        title: str,
        explanation: str,
        apply: Callable[[FraudSignal, str], Any],
    ) -> TemplateResponse | None:
        """Ask for a note on an intermediate page, then apply the step to each selected signal."""
        form = ReviewForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            done = 0
            for signal in queryset:
                try:
                    apply(signal, form.cleaned_data["note"])
                except fraud_review.ReviewError as refused:
                    self._refused(request, signal, refused)
                else:
                    done += 1
            if done:
                self.message_user(request, f"{title}: {done} signal(s).", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "explanation": explanation,
            "form": form,
            "signals": queryset.select_related("teacher"),
            "action": request.POST.get("action", ""),
            "opts": self.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/billing/fraudsignal/review.html", context)

    @admin.action(description="Dismiss the selected signals…")
    def dismiss(self, request: Any, queryset: QuerySet[FraudSignal]) -> TemplateResponse | None:
        return self._review(
            request,
            queryset,
            title="Dismiss",
            explanation="Nothing to act on. The rule may raise a new signal if it happens again.",
            apply=lambda signal, note: fraud_review.dismiss_signal(
                signal=signal, by=request.user, note=note
            ),
        )

    @admin.action(description="Escalate the selected signals…")
    def escalate(self, request: Any, queryset: QuerySet[FraudSignal]) -> TemplateResponse | None:
        return self._review(
            request,
            queryset,
            title="Escalate",
            explanation="Worth following up. The teacher's sales go on; nobody is emailed.",
            apply=lambda signal, note: fraud_review.escalate_signal(
                signal=signal, by=request.user, note=note
            ),
        )

    @admin.action(description="Escalate and pause the teacher's sales…")
    def escalate_and_pause(
        self, request: Any, queryset: QuerySet[FraudSignal]
    ) -> TemplateResponse | None:
        return self._review(
            request,
            queryset,
            title="Escalate and pause sales",
            explanation=(
                "New paid enrolments in the teacher's courses stop until a staff member lifts the "
                "pause; students already enrolled keep their access. The teacher is emailed."
            ),
            apply=lambda signal, note: fraud_review.escalate_signal(
                signal=signal, by=request.user, note=note, pause_sales=True
            ),
        )

    @admin.action(description="Lift the sales pause")
    def lift_pause(self, request: Any, queryset: QuerySet[FraudSignal]) -> None:
        done = 0
        for signal in queryset:
            try:
                fraud_review.lift_pause(signal=signal, by=request.user)
            except fraud_review.ReviewError as refused:
                self._refused(request, signal, refused)
            else:
                done += 1
        if done:
            words = f"Sales resumed for {done} signal(s); the teachers are emailed."
            self.message_user(request, words, messages.SUCCESS)


@admin.register(CardFailure)
class CardFailureAdmin(admin.ModelAdmin):
    """Declined card attempts, as Stripe reported them: read-only, kept 30 days."""

    list_display = ["stripe_id", "teacher", "purchase", "decline_code", "at"]
    list_filter = ["decline_code", "at"]
    list_select_related = ["teacher", "purchase"]
    search_fields = ["stripe_id", "teacher__email"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
