from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from billing import webhooks
from billing.models import ConnectAccount, Coupon, CouponRedemption, Purchase, Refund, StripeEvent


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
