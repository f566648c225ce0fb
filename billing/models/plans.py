"""Lectern's own revenue: the plan catalogue and teachers' subscriptions, as Stripe holds them.

Staff edit the catalogue in the admin; `manage.py sync_plans` gives each plan
a Stripe Product and each price a Stripe Price. A teacher's subscription,
invoices and payment methods are mirrored from Stripe's webhooks (and read
back from its API after a change made here): Stripe is the record, and every
mirror keeps the `created` time of the newest event it applied, so an older
event never overwrites a newer state. Payment methods are metadata only
(brand, last 4, expiry): card numbers never reach Lectern.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _


class Interval(models.TextChoices):
    MONTH = "month", _("Monthly")
    YEAR = "year", _("Yearly")


class Plan(models.Model):
    """A plan teachers can be on, with its limits; empty limits mean no limit."""

    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=60)
    tagline = models.CharField(max_length=200, blank=True)
    # Plans are shown, and compared for upgrades and downgrades, in this order.
    position = models.PositiveSmallIntegerField(default=0)
    # The plan of every teacher without a paid subscription (exactly one).
    is_free = models.BooleanField(default=False)
    # Offered to teachers choosing a plan; one no longer offered keeps its subscribers.
    offered = models.BooleanField(default=True)
    max_active_students = models.PositiveIntegerField(
        _("active students"),
        null=True,
        blank=True,
        help_text=_("Students with a paid enrolment in the last 30 days. Empty: no limit."),
    )
    ai_units_per_month = models.PositiveIntegerField(
        _("AI units per month"), null=True, blank=True, help_text=_("Empty: no limit.")
    )
    storage_mb = models.PositiveIntegerField(
        _("storage (MB)"), null=True, blank=True, help_text=_("Empty: no limit.")
    )
    live_minutes_per_month = models.PositiveIntegerField(
        _("live participant-minutes per month"),
        null=True,
        blank=True,
        help_text=_("Empty: no limit."),
    )
    platform_fee_percent = models.DecimalField(
        _("platform fee (%)"),
        max_digits=5,
        decimal_places=2,
        help_text=_("Lectern's share of each course sale."),
    )
    stripe_product_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_free"], condition=Q(is_free=True), name="plan_one_free_plan"
            ),
            models.CheckConstraint(
                condition=Q(platform_fee_percent__gte=0, platform_fee_percent__lte=100),
                name="plan_fee_percent_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PlanPrice(models.Model):
    """What a plan costs for one interval in one currency, and its Stripe Price."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="prices")
    interval = models.CharField(max_length=5, choices=Interval.choices)
    currency = models.CharField(max_length=3)
    amount = models.PositiveIntegerField(help_text=_("In minor units (cents, pence)."))
    stripe_price_id = models.CharField(max_length=64, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["plan__position", "currency", "interval"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "interval", "currency"], name="plan_price_one_per_interval"
            ),
            models.UniqueConstraint(
                fields=["stripe_price_id"],
                condition=~Q(stripe_price_id=""),
                name="plan_price_stripe_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan} {self.get_interval_display().lower()} {self.currency}"


class BillingCustomer(models.Model):
    """A teacher's Stripe Customer on the platform account, created once at their first checkout."""

    teacher = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="billing_customer"
    )
    stripe_customer_id = models.CharField(max_length=64, unique=True)
    email = models.EmailField(blank=True)
    name = models.CharField(max_length=200, blank=True)
    stripe_state_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now, editable=False)

    def __str__(self) -> str:
        return self.stripe_customer_id


class PaymentMethod(models.Model):
    """A card's metadata as Stripe describes it (brand, last 4, expiry): never the card itself."""

    customer = models.ForeignKey(
        BillingCustomer, on_delete=models.CASCADE, related_name="payment_methods"
    )
    stripe_payment_method_id = models.CharField(max_length=64, unique=True)
    brand = models.CharField(max_length=20, blank=True)
    last4 = models.CharField(max_length=4, blank=True)
    exp_month = models.PositiveSmallIntegerField(null=True, blank=True)
    exp_year = models.PositiveSmallIntegerField(null=True, blank=True)
    is_default = models.BooleanField(default=False)
    stripe_state_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        ordering = ["-is_default", "-created_at"]

    def __str__(self) -> str:
        return f"{self.brand} •••• {self.last4}"


class Subscription(models.Model):
    """A teacher's subscription to a paid plan, mirrored from Stripe."""

    class Status(models.TextChoices):
        INCOMPLETE = "incomplete", _("Waiting for the first payment")
        INCOMPLETE_EXPIRED = "incomplete_expired", _("First payment never made")
        TRIALING = "trialing", _("Trial")
        ACTIVE = "active", _("Active")
        PAST_DUE = "past_due", _("Payment overdue")
        UNPAID = "unpaid", _("Unpaid")
        CANCELED = "canceled", _("Ended")
        PAUSED = "paused", _("Paused")

    # Statuses that keep the plan's limits (Stripe retries a failed payment meanwhile).
    LIVE = (Status.TRIALING, Status.ACTIVE, Status.PAST_DUE)

    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="subscriptions",
    )
    customer = models.ForeignKey(
        BillingCustomer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="subscriptions",
    )
    stripe_subscription_id = models.CharField(max_length=64, unique=True)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    price = models.ForeignKey(
        PlanPrice, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    interval = models.CharField(max_length=5, choices=Interval.choices)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=Status.choices)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    canceled_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # A downgrade or interval change waiting for the period's end (a Stripe schedule).
    pending_plan = models.ForeignKey(
        Plan, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    pending_price = models.ForeignKey(
        PlanPrice, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    pending_change_at = models.DateTimeField(null=True, blank=True)
    stripe_schedule_id = models.CharField(max_length=64, blank=True)
    # The latest invoice's payment failed and none has succeeded since.
    payment_failed_at = models.DateTimeField(null=True, blank=True)
    stripe_state_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    # Set once the subscription has been kept without its teacher, for the tax record.
    anonymised_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["teacher", "status"])]

    def __str__(self) -> str:
        return f"{self.plan} ({self.get_status_display()})"

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE


class Invoice(models.Model):
    """One of Lectern's invoices to a teacher, mirrored from Stripe, with Stripe's own links."""

    customer = models.ForeignKey(
        BillingCustomer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invoices",
    )
    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invoices",
    )
    subscription = models.ForeignKey(
        Subscription,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invoices",
    )
    stripe_invoice_id = models.CharField(max_length=64, unique=True)
    number = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=20, blank=True)
    billing_reason = models.CharField(max_length=40, blank=True)
    currency = models.CharField(max_length=3)
    amount_due = models.PositiveIntegerField(default=0)
    amount_paid = models.PositiveIntegerField(default=0)
    hosted_invoice_url = models.URLField(max_length=2000, blank=True)
    invoice_pdf = models.URLField(max_length=2000, blank=True)
    issued_at = models.DateTimeField()
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    stripe_state_at = models.DateTimeField(null=True, blank=True)
    # Set once the invoice has been kept without its teacher, for the tax record.
    anonymised_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-issued_at"]
        indexes = [models.Index(fields=["teacher", "-issued_at"])]

    def __str__(self) -> str:
        return self.number or self.stripe_invoice_id
