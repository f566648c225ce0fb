from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboundEmail(models.Model):
    """One email on its way out: rendered by its sender, delivered by the outbox.

    `key` names what the email is about (e.g. "enrolment-added:42:<enrolled at>"):
    it is unique, so a flow that runs twice queues one email. Once the email is
    sent its subject, body and headers are cleared (the body may hold a one-time
    link, the subject someone else's name); the key, the address and the dates
    stay for the admin until the retention sweep purges them.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting to send")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed, gave up")

    key = models.CharField(_("idempotency key"), max_length=255, unique=True)
    to_email = models.EmailField(_("to"), max_length=254)
    from_email = models.CharField(_("from"), max_length=254)
    subject = models.TextField(_("subject"))
    text = models.TextField(_("text body"), blank=True)
    html = models.TextField(_("HTML body"), blank=True)
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    state = models.CharField(_("state"), max_length=7, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("queued"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    lease_until = models.DateTimeField(
        _("claimed until"),
        null=True,
        blank=True,
        help_text=_("A sender's claim; once it has passed, another worker may take the email."),
    )
    finished_at = models.DateTimeField(_("sent or given up"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    forget_recipient = models.BooleanField(
        _("forget the recipient once sent"),
        default=False,
        help_text=_("For emails to people who asked to be forgotten, like the deletion receipt."),
    )

    class Meta:
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="outbox_due"),
            models.Index(fields=["finished_at"], name="outbox_finished"),
            models.Index(Lower("to_email"), name="outbox_to_lower"),
        ]
        verbose_name = _("outbound email")

    def __str__(self) -> str:
        return f"{self.subject} → {self.to_email}"
