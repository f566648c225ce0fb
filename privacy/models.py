import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PolicyAcceptance(models.Model):
    """One person's acceptance of one version of one policy document.

    The version is the sha256 of the document's text. When the account is
    deleted the row loses its link to the person and is kept, anonymised, for
    24 months as evidence of what was agreed.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="policy_acceptances",
    )
    document = models.CharField(_("document"), max_length=40)
    sha256 = models.CharField(_("version"), max_length=64)
    accepted_at = models.DateTimeField(_("accepted"), default=timezone.now)
    user_deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "document", "sha256"], name="privacy_acceptance_once_per_version"
            )
        ]
        indexes = [models.Index(fields=["user_deleted_at"])]

    def __str__(self) -> str:
        return f"{self.document} {self.sha256[:12]}"


def export_key(instance: "ExportRequest | None", filename: str) -> str:
    # A random name: the file is only ever reached through the download view.
    return f"exports/{secrets.token_urlsafe(24)}.zip"


class ExportRequest(models.Model):
    """One "Download my data" request and the ZIP it produced.

    Built by a Celery task (`privacy.export`); the file is deleted by the
    retention sweep when the link expires, and the row stays as history.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Being prepared")
        READY = "ready", _("Ready")
        EXPIRED = "expired", _("Expired")
        FAILED = "failed", _("Failed")

    OPEN_STATES = (State.QUEUED, State.RUNNING)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="export_requests"
    )
    state = models.CharField(_("state"), max_length=8, choices=State, default=State.QUEUED)
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    expires_at = models.DateTimeField(_("link expires"), null=True, blank=True)
    file = models.FileField(upload_to=export_key, max_length=200, blank=True)
    size = models.PositiveBigIntegerField(_("size in bytes"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    emailed_at = models.DateTimeField(_("emailed"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(state__in=["queued", "running"]),
                name="privacy_one_open_export_per_user",
            )
        ]
        indexes = [models.Index(fields=["state", "expires_at"])]

    def __str__(self) -> str:
        return f"Export #{self.pk} ({self.state})"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES


class DeletionRequest(models.Model):
    """One "Delete my account" request, from the cooling-off period to the receipt.

    The account is deactivated when the request is made and erased when
    `erase_after` has passed (`privacy.deletion`). `steps` records, per
    registry entry, what each eraser did, so a killed or failed erasure resumes
    where it stopped. Once the receipt is sent, the row keeps no name, address
    or link to the person: only dates and counts, as the history staff see.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Cooling off")
        CANCELLED = "cancelled", _("Cancelled")
        ERASING = "erasing", _("Erasing")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed, will retry")

    OPEN_STATES = (State.PENDING, State.ERASING, State.FAILED)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deletion_requests",
    )
    # Where the receipt goes; cleared once it is sent.
    email = models.EmailField(_("email address"), blank=True)
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    state = models.CharField(_("state"), max_length=9, choices=State, default=State.PENDING)
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    erase_after = models.DateTimeField(_("erase after"))
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    started_at = models.DateTimeField(_("erasure started"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    steps = models.JSONField(_("steps done"), default=dict, blank=True)
    kept = models.JSONField(_("kept after deletion"), default=list, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.CharField(_("last error"), max_length=500, blank=True)
    receipt_sent_at = models.DateTimeField(_("receipt sent"), null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(state__in=["pending", "erasing", "failed"]),
                name="privacy_one_open_deletion_per_user",
            )
        ]
        indexes = [models.Index(fields=["state", "erase_after"])]

    def __str__(self) -> str:
        return f"Deletion #{self.pk} ({self.state})"
