"""Support requests: what people ask the team running this server, and the answers.

A request comes from the "Contact us" page (anyone, `user` empty) or the Help
form (signed in, `user` set, name and address from the account). Staff answer
in the admin; each answer is a `SupportReply`, emailed to the person and kept
with the request. Requests are deleted 24 months after they are closed (or
after their last activity when nobody closed them): see `support/privacy.py`.
"""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SupportRequest(models.Model):
    class Category(models.TextChoices):
        ACCOUNT = "account", _("My account or signing in")
        BILLING = "billing", _("Billing and payments")
        COURSES = "courses", _("Courses and teaching")
        PRIVACY = "privacy", _("Privacy and my data")
        OTHER = "other", _("Something else")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ANSWERED = "answered", _("Answered")
        CLOSED = "closed", _("Closed")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="support_requests",
        help_text=_("Empty when the request was sent without signing in."),
    )
    name = models.CharField(_("name"), max_length=150)
    email = models.EmailField(_("email"), max_length=254, help_text=_("Where answers are sent."))
    category = models.CharField(
        _("topic"), max_length=8, choices=Category.choices, default=Category.OTHER
    )
    message = models.TextField(_("message"))
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.OPEN
    )
    created_at = models.DateTimeField(_("sent"), default=timezone.now)
    answered_at = models.DateTimeField(
        _("last answered"), null=True, blank=True, help_text=_("When staff last replied.")
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    last_activity_at = models.DateTimeField(
        _("last activity"),
        default=timezone.now,
        help_text=_("The request, or its latest reply or change of status."),
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="support_status_created"),
            models.Index(fields=["closed_at"], name="support_closed"),
            models.Index(fields=["last_activity_at"], name="support_activity"),
            models.Index(Lower("email"), name="support_email_lower"),
        ]
        verbose_name = _("support request")

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_category_display()} — {self.name}"

    @property
    def reference(self) -> str:
        return f"#{self.pk}"


class SupportReply(models.Model):
    """A staff answer to a request, as emailed to the person."""

    request = models.ForeignKey(
        SupportRequest,
        verbose_name=_("request"),
        on_delete=models.CASCADE,
        related_name="replies",
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    text = models.TextField(_("reply"))
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)

    class Meta:
        ordering = ["sent_at", "pk"]
        verbose_name = _("support reply")
        verbose_name_plural = _("support replies")

    def __str__(self) -> str:
        return f"Reply to #{self.request_id}"
