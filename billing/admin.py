from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

# fraud_admin registers the fraud review queue and the declined cards behind it;
# gmv_admin the sales totals; plan_admin the plan catalogue and teachers' subscriptions.
from billing import fraud_admin, gmv_admin, plan_admin, webhooks  # noqa: F401
from billing.models import (
    ConnectAccount,
    Coupon,
    CouponRedemption,
    PlanCapState,
    PlanCapTransition,
    Purchase,
    Refund,
    StripeEvent,
)
from billing.services import caps


@admin.register(ConnectAccount)
class ConnectAccountAdmin(admin.ModelAdmin):
    list_display = [
        "stripe_account_id",
        "teacher",
        "country",
        "charges_enabled",
        "payouts_enabled",
        "details_submitted",
        "synced_at",
    ]
    list_filter = ["charges_enabled", "payouts_enabled", "country"]
    list_select_related = ["teacher"]
    search_fields = ["stripe_account_id", "teacher__email", "business_name"]
    raw_id_fields = ["teacher"]
    readonly_fields = [
        "stripe_account_id",
        "charges_enabled",
        "payouts_enabled",
        "details_submitted",
        "requirements_due",
        "disabled_reason",
        "stripe_state_at",
        "synced_at",
    ]


class RefundInline(admin.TabularInline):
    model = Refund
    extra = 0
    can_delete = False
    readonly_fields = [
        "key",
        "stripe_refund_id",
        "amount",
        "currency",
        "status",
        "reason",
        "end_access",
        "error",
        "created_at",
        "succeeded_at",
    ]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Purchase)
class PurchaseAdmin(admin.ModelAdmin):
    """Staff see every purchase and how it got to its state; states change only through Stripe."""

    list_display = [
        "pk",
        "course_title",
        "student",
        "teacher",
        "amount",
        "currency",
        "status",
        "created_at",
        "paid_at",
    ]
    list_filter = ["status", "currency", "created_at"]
    list_select_related = ["student", "teacher"]
    search_fields = [
        "course_title",
        "student__email",
        "teacher__email",
        "checkout_session_id",
        "payment_intent_id",
        "coupon_code",
    ]
    raw_id_fields = ["student", "teacher", "course", "coupon"]
    inlines = [RefundInline]

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [field.name for field in Purchase._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "teacher",
        "course",
        "percent_off",
        "amount_off",
        "currency",
        "times_redeemed",
        "max_redemptions",
        "active",
        "expires_at",
    ]
    list_filter = ["active"]
    list_select_related = ["teacher", "course"]
    search_fields = ["code", "teacher__email"]
    raw_id_fields = ["teacher", "course"]


@admin.register(CouponRedemption)
class CouponRedemptionAdmin(admin.ModelAdmin):
    list_display = ["coupon", "purchase", "student", "discount_amount", "currency", "redeemed_at"]
    list_select_related = ["coupon", "purchase", "student"]
    raw_id_fields = ["coupon", "purchase", "student"]
    search_fields = ["coupon__code", "student__email"]


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    """The webhook log: every event once, its processing state and last error; replayable."""

    list_display = [
        "event_id",
        "type",
        "source",
        "account",
        "status",
        "attempts",
        "stripe_created_at",
        "received_at",
        "processed_at",
    ]
    list_filter = ["status", "source", "type"]
    search_fields = ["event_id", "type", "account"]
    actions = ["replay"]

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [field.name for field in StripeEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Process the selected events again")
    def replay(self, request: HttpRequest, queryset: QuerySet[StripeEvent]) -> None:
        count = webhooks.replay(events=queryset)
        self.message_user(request, f"{count} event(s) queued again.", messages.SUCCESS)


class PlanCapOverrideForm(forms.ModelForm):
    """A staff member holds a teacher's cap state, or lets evaluation decide again, with a note."""

    LIFT = "lift"

    change = forms.ChoiceField(
        label="Override",
        required=False,
        choices=[
            ("", "Leave as it is"),
            *[(value, f"Hold at “{label}”") for value, label in PlanCapState.State.choices],
            (LIFT, "Lift the override: the evaluated state applies"),
        ],
    )
    note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why: kept with the change in the teacher's history. Required for a change.",
    )

    class Meta:
        model = PlanCapState
        fields: list[str] = []

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("change") and not data.get("note", "").strip():
            self.add_error("note", "Write a note saying why: it is kept with the change.")
        if data.get("change") == self.LIFT and not self.instance.override_state:
            self.add_error("change", "This teacher's state isn't overridden.")
        return data


@admin.register(PlanCapState)
class PlanCapStateAdmin(admin.ModelAdmin):
    """Where each teacher stands against their plan's cap; staff may hold a state, with a note."""

    form = PlanCapOverrideForm
    list_display = [
        "teacher",
        "state",
        "override_state",
        "active_students",
        "cap",
        "entered_at",
        "grace_ends_at",
        "evaluated_at",
    ]
    list_filter = ["state", "override_state"]
    list_select_related = ["teacher"]
    search_fields = ["teacher__email"]
    readonly_fields = [
        "teacher",
        "state",
        "active_students",
        "cap",
        "entered_at",
        "evaluated_at",
        "warning_emailed_at",
        "grace_started_at",
        "grace_ends_at",
        "grace_reminder_sent_at",
        "blocked_at",
        "override_state",
        "override_note",
        "overridden_by",
        "overridden_at",
        "history",
    ]
    fields = [*readonly_fields, "change", "note"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description="History")
    def history(self, obj: PlanCapState) -> str:
        url = reverse("admin:billing_plancaptransition_changelist")
        return format_html(
            '<a href="{}?teacher__id__exact={}">Every change</a>', url, obj.teacher_id
        )

    def save_model(self, request: HttpRequest, obj: PlanCapState, form: Any, change: bool) -> None:
        # Only the services write the state: they lock the row and record the transition.
        choice, note = form.cleaned_data.get("change"), form.cleaned_data.get("note", "")
        try:
            if choice == PlanCapOverrideForm.LIFT:
                caps.lift_override(teacher=obj.teacher, note=note, by=request.user)
            elif choice:
                caps.override_state(teacher=obj.teacher, state=choice, note=note, by=request.user)
        except caps.CapOverrideError as error:
            self.message_user(request, error.message, messages.ERROR)


@admin.register(PlanCapTransition)
class PlanCapTransitionAdmin(admin.ModelAdmin):
    """The audit list of cap states: every move, its reason and figures, who made an override."""

    list_display = [
        "at",
        "teacher",
        "from_state",
        "to_state",
        "reason",
        "active_students",
        "cap",
        "by",
    ]
    list_filter = ["to_state", "from_state", "at"]
    list_select_related = ["teacher", "by"]
    search_fields = ["teacher__email", "reason", "note"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
