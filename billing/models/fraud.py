"""Risk signals on teacher accounts, raised by rules and reviewed by staff.

At most one signal per rule and teacher is OPEN at a time. Escalating a
signal can pause the teacher's sales until a staff member lifts the pause.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _


class FraudSignal(models.Model):
    class Rule(models.TextChoices):
        COUPON_RATE = "coupon_rate", _("High coupon redemption rate")
        OFF_PLATFORM_LINK = "off_platform_link", _("Off-platform payment link")
        CARD_TESTING = "card_testing", _("Many failed card attempts")
        REFUND_RATE = "refund_rate", _("Unusual refund or dispute rate")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DISMISSED = "dismissed", _("Dismissed")
        ESCALATED = "escalated", _("Escalated")

    # Kept 24 months from creation whatever their status; a deleted teacher's signals
    # lose the link to them (their evidence names no one).
    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="fraud_signals",
    )
    rule = models.CharField(max_length=20, choices=Rule.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    summary = models.CharField(max_length=300)
    evidence = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=now, editable=False)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    review_note = models.TextField(blank=True)
    # Escalation can pause the teacher's sales until staff lift it.
    sales_paused_at = models.DateTimeField(null=True, blank=True)
    sales_resumed_at = models.DateTimeField(null=True, blank=True)
    resumed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["teacher", "rule"],
                condition=Q(status="open"),
                name="fraud_signal_one_open_per_rule",
            )
        ]
        indexes = [
            models.Index(fields=["status", "-created_at"]),
            models.Index(fields=["created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_rule_display()} ({self.get_status_display()})"

    @property
    def pauses_sales(self) -> bool:
        return self.sales_paused_at is not None and self.sales_resumed_at is None


class CardFailure(models.Model):
    """A declined card on one of a teacher's courses, as Stripe reported it."""

    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    purchase = models.ForeignKey(
        "billing.Purchase", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Stripe's id of the failed charge (or payment attempt): one row per failure.
    stripe_id = models.CharField(max_length=64, unique=True)
    decline_code = models.CharField(max_length=60, blank=True)
    at = models.DateTimeField(default=now)

    class Meta:
        indexes = [models.Index(fields=["teacher", "at"]), models.Index(fields=["at"])]

    def __str__(self) -> str:
        return self.stripe_id
