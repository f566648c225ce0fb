"""What teachers' contact lists hold about people, and what the lists' owners keep.

A contact is about a person (by their account, or by address for someone with
none) and belongs to one teacher. The person's export holds every teacher's
contact of them, the teachers' notes included; erasing the person removes them
from every teacher's list. A teacher's own tags go with their account, and so
does their whole list (the contacts cascade with the teacher).

Leads ("tell me when it opens") are kept 30 days after they were told the
course opened, 12 months from the request if it never did, or until the person
unsubscribes; a lead-only contact goes with its lead.
"""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from crm.models import Contact, ContactNote, Lead, Tag
from privacy.registry import Retention, register, rule

LEAD_KEEP = timedelta(days=365)
LEAD_KEEP_AFTER_TOLD = timedelta(days=30)


def _contacts_of(user: Any) -> QuerySet[Contact]:
    return Contact.objects.filter(Q(user=user) | Q(email__iexact=user.email))


def _export_contacts(user: Any) -> Iterator[dict[str, Any]]:
    rows = _contacts_of(user).select_related("teacher").prefetch_related("tags").order_by("pk")
    for contact in rows.iterator(chunk_size=500):
        yield {
            "teacher": contact.teacher.get_full_name() or contact.teacher.email,
            "name": contact.name,
            "email": contact.email,
            "phone": contact.phone,
            "company": contact.company,
            "status": contact.get_status_display(),
            "source": contact.source,
            "tags": sorted(t.name for t in contact.tags.all()),
            "first_seen": contact.first_seen.isoformat(),
            "last_activity": contact.last_activity.isoformat() if contact.last_activity else None,
        }


def _erase_contacts(user: Any) -> int:
    deleted, _ = _contacts_of(user).delete()
    return deleted


register(
    Contact,
    category="Contact lists of your teachers",
    purpose="The list your teachers keep of their students and prospects: your name, address, the "
    "phone and company they noted, their tags for you, your status with them, where your "
    "first visit came from, and when you were first and last active",
    owner="user",
    rows=_contacts_of,
    exporter=_export_contacts,
    schema={
        "teacher": "The teacher whose list it is",
        "name": "Your name as the teacher's list shows it",
        "email": "Your address",
        "phone": "A phone number the teacher noted",
        "company": "A company the teacher noted",
        "status": "Student, past student, registrant, waitlisted, lead or contact",
        "source": "Where your first visit came from (campaign or referring site)",
        "tags": "The teacher's labels for you",
        "first_seen": "When you first became connected to the teacher",
        "last_activity": "When you were last active in their courses",
    },
    eraser=_erase_contacts,
    erasure_note="Deleted from the list of every teacher",
    dated_by="first_seen",
    retention=Retention(
        "While you are connected to the teacher and their account exists; a "
        "contact that was only a lead goes with the lead"
    ),
)


def _notes_of(user: Any) -> QuerySet[ContactNote]:
    return ContactNote.objects.filter(Q(contact__user=user) | Q(contact__email__iexact=user.email))


def _export_notes(user: Any) -> Iterator[dict[str, Any]]:
    rows = _notes_of(user).select_related("contact__teacher").order_by("pk")
    for note in rows.iterator(chunk_size=500):
        teacher = note.contact.teacher
        yield {
            "teacher": teacher.get_full_name() or teacher.email,
            "body": note.body,
            "created_at": note.created_at.isoformat(),
            "updated_at": note.updated_at.isoformat(),
        }


def _erase_notes(user: Any) -> int:
    deleted, _ = _notes_of(user).delete()
    return deleted


register(
    ContactNote,
    category="Notes your teachers keep about you",
    purpose="Private notes your teachers wrote about you in their contact list",
    owner="contact__user",
    rows=_notes_of,
    exporter=_export_notes,
    schema={
        "teacher": "The teacher who wrote the note",
        "body": "The note",
        "created_at": "When it was written",
        "updated_at": "When it was last changed",
    },
    eraser=_erase_notes,
    dated_by="created_at",
    retention=Retention("Until the teacher deletes it, or your account or theirs is deleted"),
)

register(
    Tag,
    category="Your contact tags",
    purpose="The tags you use to sort the people in your contact list",
    owner="teacher",
    fields=["name", "created_at"],
    dated_by="created_at",
    retention=Retention("While your account exists"),
)


def _leads_of(user: Any) -> QuerySet[Lead]:
    return Lead.objects.filter(email__iexact=user.email)


def _export_leads(user: Any) -> Iterator[dict[str, Any]]:
    rows = _leads_of(user).select_related("course").order_by("pk")
    for lead in rows.iterator(chunk_size=500):
        yield {
            "course": lead.course.title,
            "email": lead.email,
            "name": lead.name,
            "consent_at": lead.consent_at.isoformat(),
            "created_at": lead.created_at.isoformat(),
            "notified_at": lead.notified_at.isoformat() if lead.notified_at else None,
        }


def _erase_leads(user: Any) -> int:
    deleted, _ = _leads_of(user).delete()
    return deleted


def _old_leads() -> QuerySet[Lead]:
    now = timezone.now()
    return Lead.objects.filter(
        Q(created_at__lt=now - LEAD_KEEP) | Q(notified_at__lt=now - LEAD_KEEP_AFTER_TOLD)
    )


register(
    Lead,
    category="Courses you asked to hear about",
    purpose="Emailing you once when a full or not-yet-open course you asked about opens",
    owner="email",
    rows=_leads_of,
    exporter=_export_leads,
    schema={
        "course": "The course you asked about",
        "email": "The address to tell",
        "name": "The name you gave",
        "consent_at": "When you agreed to be emailed once when it opens",
        "created_at": "When you asked",
        "notified_at": "When you were told it opened",
    },
    eraser=_erase_leads,
    dated_by="created_at",
    retention=Retention(
        "30 days after we told you the course opened, 12 months after you asked if it "
        "never did, or until you unsubscribe (the link is in the email)",
        period=LEAD_KEEP,
        expired=_old_leads,
    ),
)


def lead_only_contacts() -> QuerySet[Contact]:
    """Contacts that were only leads and whose lead is gone."""
    return Contact.objects.filter(status=Contact.Status.LEAD, imported=False).exclude(
        Exists(Lead.objects.filter(teacher_id=OuterRef("teacher_id"), email=OuterRef("email")))
    )


rule(
    "Contacts that were only leads",
    description="A contact of a teacher for someone whose only tie was a lead that expired",
    retention=Retention(
        "Deleted with the lead: 30 days after they were told, 12 months after they asked, "
        "or when they unsubscribe",
        period=LEAD_KEEP,
        expired=lead_only_contacts,
    ),
)
