"""Money that moves through a teacher's own Stripe account, as Lectern mirrors it.

Amounts are integer minor units with their ISO currency (`core.money`), as
Stripe counts them. Every state here is reached only through
`billing.services` (and the webhook handlers it runs), which lock the row and
check its state before changing it, so duplicated or reordered Stripe events
end in the same place.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from outbox.inbox import InboxEvent


class ConnectAccount(models.Model):
    """A teacher's Stripe Connect Express account, mirrored from the API and `account.updated`."""

    teacher = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="connect_account"
    )
    stripe_account_id = models.CharField(max_length=64, unique=True)
    country = models.CharField(max_length=2)
    default_currency = models.CharField(max_length=3, blank=True)
    business_name = models.CharField(max_length=200, blank=True)
    charges_enabled = models.BooleanField(default=False)
    payouts_enabled = models.BooleanField(default=False)
    details_submitted = models.BooleanField(default=False)
    requirements_due = models.JSONField(default=list, blank=True)
    disabled_reason = models.CharField(max_length=100, blank=True)
    # When Stripe said what we hold (an event's `created`, or the time we asked it):
    # an older event never overwrites a newer state.
    stripe_state_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        indexes = [models.Index(fields=["synced_at"])]

    def __str__(self) -> str:
        return self.stripe_account_id

    @property
    def can_sell(self) -> bool:
        return self.charges_enabled and self.payouts_enabled

    @property
    def state_words(self) -> str:
        """The onboarding state in plain words, for the teacher."""
        if self.can_sell:
            return "Ready to sell: payments and payouts are on."
        due = len(self.requirements_due)
        if not self.details_submitted:
            if due:
                return f"Finish setting up Stripe: {due} detail{'s' if due != 1 else ''} needed."
            return "Finish setting up Stripe to sell your courses."
        if due:
            return f"Stripe needs {due} more detail{'s' if due != 1 else ''} before you can sell."
        if self.disabled_reason:
            return "Stripe has paused this account: open your Stripe dashboard to see why."
        return "Stripe is reviewing your details. This usually takes a few minutes."


class Coupon(models.Model):
    """A teacher's discount code: percent or a fixed amount off, for one course or all of theirs."""

    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="coupons"
    )
    course = models.ForeignKey(
        "courses.Course",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="coupons",
        help_text=_("Leave empty for all your courses."),
    )
    code = models.CharField(_("code"), max_length=40)
    percent_off = models.PositiveSmallIntegerField(_("percent off"), null=True, blank=True)
    amount_off = models.PositiveIntegerField(_("amount off"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    starts_at = models.DateTimeField(_("valid from"), null=True, blank=True)
    expires_at = models.DateTimeField(_("valid until"), null=True, blank=True)
    max_redemptions = models.PositiveIntegerField(_("total uses"), null=True, blank=True)
    once_per_student = models.BooleanField(_("once per student"), default=True)
    active = models.BooleanField(_("active"), default=True)
    times_redeemed = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                "teacher", Lower("code"), name="coupon_code_unique_per_teacher"
            ),
            models.CheckConstraint(
                condition=(
                    Q(percent_off__isnull=False, amount_off__isnull=True)
                    | Q(percent_off__isnull=True, amount_off__isnull=False)
                ),
                name="coupon_percent_or_amount",
            ),
            models.CheckConstraint(
                condition=Q(percent_off__isnull=True) | Q(percent_off__gte=1, percent_off__lte=100),
                name="coupon_percent_range",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class Purchase(models.Model):
    """One attempt to buy one course: a Checkout Session and what became of it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Abandoned")
        REFUNDED = "refunded", _("Refunded")
        PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
        DISPUTED = "disputed", _("Disputed")

    student = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="purchases",
    )
    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sales",
    )
    course = models.ForeignKey(
        "courses.Course", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    course_title = models.CharField(max_length=200)
    connect_account_id = models.CharField(max_length=64)
    coupon = models.ForeignKey(
        Coupon, on_delete=models.SET_NULL, null=True, blank=True, related_name="purchases"
    )
    coupon_code = models.CharField(max_length=40, blank=True)
    # Integer minor units in `currency`: gross - discount = amount charged.
    gross_amount = models.PositiveIntegerField()
    discount_amount = models.PositiveIntegerField(default=0)
    amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    application_fee_amount = models.PositiveIntegerField(default=0)
    refunded_amount = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    failure_reason = models.CharField(max_length=200, blank=True)
    checkout_session_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    checkout_url = models.URLField(max_length=2000, blank=True)
    payment_intent_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    charge_id = models.CharField(max_length=255, blank=True)
    receipt_url = models.URLField(max_length=2000, blank=True)
    # Whether a full refund leaves the student in the course (the teacher's choice).
    keep_access_on_refund = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    disputed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Set once the purchase has been anonymised for the tax record.
    anonymised_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["teacher", "-created_at"]),
            models.Index(fields=["student", "-created_at"]),
            models.Index(fields=["status", "created_at"]),
            # A teacher's sales in one currency by month (`billing.services.gmv`).
            models.Index(fields=["teacher", "currency", "paid_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(discount_amount__lte=models.F("gross_amount")),
                name="purchase_discount_within_price",
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=models.F("amount")),
                name="purchase_refund_within_amount",
            ),
            # One open checkout per student and course: a second click resumes it.
            models.UniqueConstraint(
                fields=["student", "course"],
                condition=Q(status="pending"),
                name="purchase_one_pending_per_student_course",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.course_title} ({self.get_status_display()})"

    @property
    def fee_kept(self) -> int:
        """The platform's fee on what wasn't refunded: a refund gives the fee back in proportion."""
        if not self.amount:
            return 0
        fee = self.application_fee_amount
        return fee - fee * self.refunded_amount // self.amount

    @property
    def net_amount(self) -> int:
        """What the teacher keeps: charged, less refunds and the fee kept on the rest."""
        return max(0, self.amount - self.refunded_amount - self.fee_kept)

    @property
    def refundable_amount(self) -> int:
        return self.amount - self.refunded_amount

    @property
    def is_settled(self) -> bool:
        return self.status not in (self.Status.PENDING, self.Status.DISPUTED)


class CouponRedemption(models.Model):
    """A coupon used for a purchase that was paid: written only when the payment succeeds."""

    coupon = models.ForeignKey(Coupon, on_delete=models.CASCADE, related_name="redemptions")
    purchase = models.OneToOneField(Purchase, on_delete=models.CASCADE, related_name="redemption")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="coupon_redemptions",
    )
    discount_amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    redeemed_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-redeemed_at"]
        indexes = [models.Index(fields=["coupon", "student"])]

    def __str__(self) -> str:
        return f"{self.coupon} on purchase {self.purchase_id}"


class Refund(models.Model):
    """Money given back on a purchase, asked for in Lectern or made in Stripe's dashboard."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    purchase = models.ForeignKey(Purchase, on_delete=models.CASCADE, related_name="refunds")
    # Our own key for a refund asked for in Lectern (also Stripe's idempotency key).
    key = models.CharField(max_length=100, unique=True)
    stripe_refund_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    reason = models.CharField(max_length=200, blank=True)
    end_access = models.BooleanField(default=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=now, editable=False)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.stripe_refund_id or self.key


class StripeEvent(InboxEvent):
    """One Stripe webhook event, stored once by its id and processed by a task."""

    Status = InboxEvent.Status

    class Source(models.TextChoices):
        PLATFORM = "platform", _("Platform")
        CONNECT = "connect", _("Connect")

    type = models.CharField(max_length=100)
    source = models.CharField(max_length=8, choices=Source.choices)
    account = models.CharField(max_length=64, blank=True)
    livemode = models.BooleanField(default=False)
    stripe_created_at = models.DateTimeField()
    payload = models.JSONField()

    class Meta(InboxEvent.Meta):
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["received_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"
