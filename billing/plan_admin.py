"""The plan catalogue (edited by staff) and teachers' subscriptions, customers, invoices and cards.

Plans and their prices are Lectern's to edit; the action "Sync with Stripe"
creates what the catalogue lacks at Stripe (as `manage.py sync_plans` does).
Everything else is Stripe's record, mirrored from its events: readable,
searchable, and changed only by Stripe.
"""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from billing import client
from billing.models import BillingCustomer, Invoice, PaymentMethod, Plan, PlanPrice, Subscription
from billing.services import catalogue


class PlanPriceInline(admin.TabularInline):
    model = PlanPrice
    extra = 0
    fields = ["interval", "currency", "amount", "active", "stripe_price_id"]
    readonly_fields = ["stripe_price_id"]


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "code",
        "position",
        "is_free",
        "offered",
        "max_active_students",
        "platform_fee_percent",
        "stripe_product_id",
    ]
    list_editable = ["position", "offered"]
    search_fields = ["name", "code", "stripe_product_id"]
    inlines = [PlanPriceInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Exactly one plan is Free, the one every teacher without a subscription is on.
        fixed = ["stripe_product_id", "created_at"]
        return [*fixed, "is_free"] if obj is not None else fixed

    actions = ["sync_with_stripe"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Teachers without a subscription are on Free, and subscribers keep their plan: a plan
        # is never deleted. Untick "offered" to stop offering it.
        return False

    @admin.action(description="Sync the catalogue with Stripe (products and prices)")
    def sync_with_stripe(self, request: HttpRequest, queryset: QuerySet[Plan]) -> None:
        if not client.configured():
            self.message_user(request, "Payments are off on this server.", messages.ERROR)
            return
        try:
            report = catalogue.sync_plans()
        except client.PaymentServiceError as error:
            self.message_user(request, f"Stripe refused: {error.message}", messages.ERROR)
            return
        for line in report.lines:
            self.message_user(request, line, messages.INFO)
        self.message_user(request, "The plans are in sync with Stripe.", messages.SUCCESS)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Stripe's record: staff read it; Stripe's events change it."""

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(BillingCustomer)
class BillingCustomerAdmin(ReadOnlyAdmin):
    list_display = ["stripe_customer_id", "teacher", "email", "created_at"]
    list_select_related = ["teacher"]
    search_fields = ["stripe_customer_id", "teacher__email", "email", "name"]


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = [
        "stripe_subscription_id",
        "teacher",
        "plan",
        "interval",
        "currency",
        "status",
        "current_period_end",
        "cancel_at_period_end",
        "pending_plan",
        "payment_failed_at",
    ]
    list_filter = ["status", "plan", "interval", "currency", "cancel_at_period_end"]
    list_select_related = ["teacher", "plan", "pending_plan"]
    search_fields = ["stripe_subscription_id", "teacher__email", "customer__stripe_customer_id"]


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = [
        "number",
        "stripe_invoice_id",
        "teacher",
        "amount_due",
        "currency",
        "status",
        "issued_at",
        "paid_at",
    ]
    list_filter = ["status", "currency", "billing_reason"]
    list_select_related = ["teacher"]
    search_fields = ["number", "stripe_invoice_id", "teacher__email"]
    date_hierarchy = "issued_at"


@admin.register(PaymentMethod)
class PaymentMethodAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "customer", "exp_month", "exp_year", "is_default"]
    list_select_related = ["customer"]
    search_fields = ["stripe_payment_method_id", "customer__stripe_customer_id", "last4"]
