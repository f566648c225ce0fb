"""Keeping a teacher's contacts in step with courses and leads, and the teacher's edits.

`sync_people` recomputes contacts from what is true now (enrolments, waitlist
places, leads) rather than applying each change as a delta, so calling it twice,
late or after a rolled-back change does no harm. Course changes reach it through
`schedule`, which collects (teacher, person) pairs and syncs them once the
transaction commits, one pass per teacher.
"""

import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from analytics import selectors as analytics
from courses.models import Enrollment, WaitlistEntry
from crm.models import Contact, ContactNote, Lead, Tag

Status = Contact.Status
RANK = {status: rank for rank, status in enumerate(Status.values)}
ENROLMENT_STATUS = {
    Enrollment.Status.ACTIVE: Status.STUDENT,
    Enrollment.Status.HELD: Status.REGISTRANT,
    Enrollment.Status.RELEASED: Status.REGISTRANT,
    Enrollment.Status.LEFT: Status.PAST,
    Enrollment.Status.REMOVED: Status.PAST,
}
SOURCE_MAX = 100
SYNCED = ("user_id", "email", "name", "status", "source", "first_seen", "last_activity")


@dataclass
class _Facts:
    """What courses and leads say about one person, for one teacher."""

    email: str
    name: str = ""
    user_id: int | None = None
    status: str = Status.CONTACT
    first_seen: datetime | None = None
    last_activity: datetime | None = None

    def saw(self, status: str, *moments: datetime | None) -> None:
        if RANK[status] > RANK[self.status]:
            self.status = status
        for moment in moments:
            if moment is None:
                continue
            if self.first_seen is None or moment < self.first_seen:
                self.first_seen = moment
            if self.last_activity is None or moment > self.last_activity:
                self.last_activity = moment


def _full_name(first: str, last: str) -> str:
    return f"{first} {last}".strip()


def _fill_sources(contacts: list[Contact]) -> None:
    """Give contacts with an account and no source yet their first visit's source (one query)."""
    missing = [c for c in contacts if c.user_id and not c.source]
    if not missing:
        return
    labels = analytics.source_labels_for({c.user_id for c in missing if c.user_id})
    for contact in missing:
        contact.source = labels.get(contact.user_id or 0, "")[:SOURCE_MAX]


def _gather(
    teacher_id: int, user_ids: Iterable[int] | None, emails: Iterable[str] | None
) -> dict[str, _Facts]:
    enrolments = Enrollment.objects.filter(course__teacher_id=teacher_id)
    waiting = WaitlistEntry.objects.filter(course__teacher_id=teacher_id)
    leads = Lead.objects.filter(teacher_id=teacher_id)
    if user_ids is not None or emails is not None:
        ids = list(user_ids or [])
        wanted = {e.lower() for e in emails or []}
        wanted |= {
            e.lower() for e in User.objects.filter(pk__in=ids).values_list("email", flat=True)
        }
        enrolments = enrolments.filter(Q(student_id__in=ids) | Q(student__email__in=wanted))
        waiting = waiting.filter(Q(student_id__in=ids) | Q(student__email__in=wanted))
        leads = leads.filter(email__in=wanted)
    facts: dict[str, _Facts] = {}

    def person(email: str, user_id: int | None, name: str) -> _Facts:
        key = email.lower()
        found = facts.setdefault(key, _Facts(email=key))
        if user_id is not None:
            found.user_id = user_id
            found.name = name or found.name
        elif not found.name:
            found.name = name
        return found

    person_fields = ("student_id", "student__email", "student__first_name", "student__last_name")
    for row in enrolments.values(
        *person_fields, "status", "enrolled_at", "ended_at", "last_visited_at"
    ).iterator(chunk_size=5000):
        found = person(
            row["student__email"],
            row["student_id"],
            _full_name(row["student__first_name"], row["student__last_name"]),
        )
        found.saw(
            ENROLMENT_STATUS[row["status"]],
            row["enrolled_at"],
            row["ended_at"],
            row["last_visited_at"],
        )
    for row in waiting.values(*person_fields, "joined_at").iterator(chunk_size=5000):
        found = person(
            row["student__email"],
            row["student_id"],
            _full_name(row["student__first_name"], row["student__last_name"]),
        )
        found.saw(Status.WAITLISTED, row["joined_at"])
    for row in leads.values("email", "name", "created_at").iterator(chunk_size=5000):
        person(row["email"], None, row["name"]).saw(Status.LEAD, row["created_at"])
    return facts


def _state(contact: Contact) -> tuple[object, ...]:
    return tuple(getattr(contact, name) for name in SYNCED)


@transaction.atomic
def sync_people(
    teacher_id: int,
    *,
    user_ids: Iterable[int] | None = None,
    emails: Iterable[str] | None = None,
) -> int:
    """Bring `teacher_id`'s contacts for these people (all their people by default) up to date.

    Creates a contact for each person connected to the teacher, updates the
    status, name and dates of the others, and marks a contact whose
    connections are all gone a plain contact (the teacher's notes stay).
    Return how many contacts were created.
    """
    user_ids = list(user_ids) if user_ids is not None else None
    emails = [e.lower() for e in emails] if emails is not None else None
    teacher = User.objects.filter(pk=teacher_id).only("pk", "email").first()
    if teacher is None:
        return 0
    facts = _gather(teacher_id, user_ids, emails)
    facts.pop(teacher.email.lower(), None)
    existing = Contact.objects.filter(teacher_id=teacher_id)
    if user_ids is not None or emails is not None:
        existing = existing.filter(
            Q(user_id__in=user_ids or []) | Q(email__in=[*facts, *(emails or [])])
        )
    by_email = {c.email: c for c in existing}
    before = {c.pk: _state(c) for c in by_email.values()}
    # An account's address may have changed since its contact was made: match by the account.
    key_of_user = {f.user_id: key for key, f in facts.items() if f.user_id is not None}
    for contact in list(by_email.values()):
        key = key_of_user.get(contact.user_id) if contact.user_id else None
        if key is not None and key != contact.email and key not in by_email:
            del by_email[contact.email]
            contact.email = key
            by_email[key] = contact
    new: list[Contact] = []
    kept: list[Contact] = []
    for key, found in facts.items():
        known = by_email.pop(key) if key in by_email else None
        if known is None:
            new.append(
                Contact(
                    teacher_id=teacher_id,
                    user_id=found.user_id,
                    email=key,
                    name=found.name[:200],
                    status=found.status,
                    first_seen=found.first_seen or timezone.now(),
                    last_activity=found.last_activity,
                )
            )
            continue
        known.user_id = found.user_id or known.user_id
        if found.user_id is not None or not known.name:
            known.name = (found.name or known.name)[:200]
        known.status = found.status
        if found.first_seen and found.first_seen < known.first_seen:
            known.first_seen = found.first_seen
        if found.last_activity and (
            known.last_activity is None or found.last_activity > known.last_activity
        ):
            known.last_activity = found.last_activity
        kept.append(known)
    for contact in by_email.values():
        contact.status = Status.CONTACT
        kept.append(contact)
    # The source may be recorded after the person's first connection: fill it in when it comes.
    _fill_sources(new + kept)
    changed = [c for c in kept if _state(c) != before[c.pk]]
    if new:
        Contact.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True)
    if changed:
        Contact.objects.bulk_update(
            changed,
            list(SYNCED),
            batch_size=2000,
        )
    return len(new)


# --- Following course changes ---------------------------------------------------------------

_pending = threading.local()


def schedule(teacher_id: int, user_id: int) -> None:
    """Sync (teacher, person) once the current transaction commits, with the others due.

    One callback per transaction however many changes it makes. Pairs left over from a
    transaction that rolled back are synced with the next one: a sync only reads what is
    true, so that does no harm.
    """
    pairs: set[tuple[int, int]] = getattr(_pending, "pairs", None) or set()
    _pending.pairs = pairs
    pairs.add((teacher_id, user_id))
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        flush()
        return
    # Registered and still due: a rollback drops the callback, a flush clears the mark.
    due = getattr(_pending, "registered", False) and any(
        callback is flush for _, callback, _ in connection.run_on_commit
    )
    if not due:
        _pending.registered = True
        transaction.on_commit(flush)


def flush() -> None:
    """Sync every pair scheduled so far, one pass per teacher."""
    pairs: set[tuple[int, int]] = getattr(_pending, "pairs", None) or set()
    _pending.pairs = set()
    _pending.registered = False
    by_teacher: defaultdict[int, set[int]] = defaultdict(set)
    for teacher_id, user_id in pairs:
        by_teacher[teacher_id].add(user_id)
    for teacher_id, user_ids in by_teacher.items():
        sync_people(teacher_id, user_ids=user_ids)


# --- The teacher's own additions ------------------------------------------------------------


def add_note(*, contact: Contact, body: str) -> ContactNote:
    return ContactNote.objects.create(contact=contact, body=body)


def edit_note(*, note: ContactNote, body: str) -> None:
    note.body = body
    note.updated_at = timezone.now()
    note.save(update_fields=["body", "updated_at"])


def tag_named(teacher: Any, name: str) -> Tag:
    """Return the teacher's tag called `name` (any case), creating it the first time."""
    name = " ".join(name.split())
    tag = Tag.objects.filter(teacher=teacher, name__iexact=name).first()
    if tag is None:
        tag, _ = Tag.objects.get_or_create(teacher=teacher, name=name)
    return tag


def bulk_tag(*, teacher: Any, contact_ids: Iterable[int], tag: Tag, add: bool) -> int:
    """Add `tag` to (or take it off) those of `contact_ids` that are `teacher`'s; count them."""
    ids = list(
        Contact.objects.filter(teacher=teacher, pk__in=list(contact_ids)).values_list(
            "pk", flat=True
        )
    )
    through = Contact.tags.through
    if add:
        through.objects.bulk_create(
            [through(contact_id=pk, tag_id=tag.pk) for pk in ids],
            ignore_conflicts=True,
            batch_size=2000,
        )
    else:
        through.objects.filter(contact_id__in=ids, tag_id=tag.pk).delete()
    return len(ids)


# --- Leads ----------------------------------------------------------------------------------


@transaction.atomic
def record_lead(*, course: Any, email: str, name: str) -> tuple[Lead, bool]:
    """Store that `email` wants to hear when `course` opens; once per course and address."""
    email = email.strip().lower()
    lead, created = Lead.objects.get_or_create(
        course=course,
        email=email,
        defaults={
            "teacher_id": course.teacher_id,
            "name": name[:200],
            "consent_at": timezone.now(),
        },
    )
    if created:
        sync_people(course.teacher_id, emails=[email])
    return lead, created


@transaction.atomic
def forget_lead(*, lead: Lead) -> None:
    """Unsubscribe a lead: the request and, when it was their only tie, the contact go."""
    teacher_id, email = lead.teacher_id, lead.email
    lead.delete()
    sync_people(teacher_id, emails=[email])
    Contact.objects.filter(
        teacher_id=teacher_id, email=email, status=Status.CONTACT, imported=False
    ).delete()
