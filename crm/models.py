"""A teacher's contacts: everyone connected to them, with what the teacher adds.

One `Contact` per teacher and person, the person known by their email address
(lower-cased) and, when they have an account, by their user. The connection
itself (enrolled, registered, waiting, asked to be told when a course opens) is
read from courses and leads and folded into `status`, `first_seen` and
`last_activity` by `crm.services.sync_people`, so the list filters and sorts on
one indexed table however many people a teacher has.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _


class Tag(models.Model):
    """A label a teacher puts on their contacts; their own, never shared."""

    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="crm_tags"
    )
    name = models.CharField(_("tag"), max_length=40)
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint("teacher", Lower("name"), name="crm_tag_name_once"),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    """A person connected to a teacher, as that teacher's list shows them."""

    class Status(models.TextChoices):
        # Ordered weakest first: a person's status is their strongest connection.
        CONTACT = "contact", _("Contact")
        LEAD = "lead", _("Lead")
        PAST = "past", _("Past student")
        WAITLISTED = "waitlisted", _("Waitlisted")
        REGISTRANT = "registrant", _("Registrant")
        STUDENT = "student", _("Student")

    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="crm_contacts"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="crm_entries",
    )
    email = models.EmailField(_("email"), max_length=254)
    name = models.CharField(_("name"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    company = models.CharField(_("company"), max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CONTACT)
    source = models.CharField(
        _("source"),
        max_length=100,
        blank=True,
        help_text=_("Where their first visit came from (campaign or referring site)."),
    )
    imported = models.BooleanField(default=False)
    first_seen = models.DateTimeField(default=now)
    last_activity = models.DateTimeField(null=True, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="contacts")
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "email"]
        constraints = [
            models.UniqueConstraint(fields=["teacher", "email"], name="crm_contact_once"),
        ]
        indexes = [
            models.Index(fields=["teacher", "status"], name="crm_contact_status"),
            models.Index(fields=["teacher", "name", "email"], name="crm_contact_name"),
            models.Index(fields=["teacher", "last_activity"], name="crm_contact_activity"),
            models.Index(fields=["teacher", "first_seen"], name="crm_contact_first_seen"),
        ]

    def __str__(self) -> str:
        return self.name or self.email

    def get_absolute_url(self) -> str:
        return reverse("crm:contact", args=[self.pk])


class ContactNote(models.Model):
    """A teacher's private note about one of their contacts."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="notes")
    body = models.TextField(_("note"), max_length=5000)
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.body[:40]

    @property
    def edited(self) -> bool:
        return (self.updated_at - self.created_at).total_seconds() > 1


def _token() -> str:
    return secrets.token_urlsafe(24)


class Lead(models.Model):
    """Someone who asked to be told, once, when a full or not-yet-open course opens."""

    course = models.ForeignKey("courses.Course", on_delete=models.CASCADE, related_name="leads")
    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="crm_leads"
    )
    email = models.EmailField(_("email"), max_length=254)
    name = models.CharField(_("name"), max_length=200, blank=True)
    consent_at = models.DateTimeField(
        help_text=_("When they agreed to be emailed once when the course opens.")
    )
    token = models.CharField(max_length=64, unique=True, default=_token, editable=False)
    created_at = models.DateTimeField(default=now, editable=False)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["course", "email"], name="crm_lead_once"),
        ]
        indexes = [models.Index(fields=["teacher", "email"], name="crm_lead_teacher_email")]

    def __str__(self) -> str:
        return f"{self.email} for {self.course_id}"
