"""Reading a teacher's contacts: the filtered list, and one person's whole story.

The list is one indexed table filtered in the database, so a page costs the
same handful of queries for 20 contacts or 20,000: the count, the page, the
page's tags and courses, and the choices of the filter form.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet

from analytics import selectors as analytics
from billing.models import Purchase
from courses.models import Course, Enrollment, WaitlistEntry
from crm.models import Contact, ContactNote, Lead, Tag

SORTS: dict[str, tuple[Any, ...]] = {
    "name": ("name", "email", "pk"),
    "-name": ("-name", "-email", "-pk"),
    # Never-active people last either way, on every database.
    "activity": (F("last_activity").desc(nulls_last=True), "pk"),
    "-activity": (F("last_activity").asc(nulls_last=True), "pk"),
    "first_seen": ("-first_seen", "pk"),
    "-first_seen": ("first_seen", "pk"),
}
SORT_LABELS = {
    "name": "Name (A to Z)",
    "-name": "Name (Z to A)",
    "activity": "Last activity (newest)",
    "-activity": "Last activity (oldest)",
    "first_seen": "First seen (newest)",
    "-first_seen": "First seen (oldest)",
}
NO_SOURCE = "-"


@dataclass(frozen=True)
class Filters:
    """What the teacher asked the list for, already checked."""

    q: str = ""
    course: int | None = None
    tag: int | None = None
    status: str = ""
    source: str = ""
    sort: str = "name"

    def as_query(self) -> dict[str, str]:
        found = {
            "q": self.q,
            "course": str(self.course or ""),
            "tag": str(self.tag or ""),
            "status": self.status,
            "source": self.source,
            "sort": self.sort if self.sort != "name" else "",
        }
        return {k: v for k, v in found.items() if v}


def parse_filters(params: Any) -> Filters:
    """Read the list's query string; anything unknown is ignored rather than refused."""

    def number(name: str) -> int | None:
        value = params.get(name, "")
        return int(value) if value.isdigit() and len(value) < 12 else None

    status = params.get("status", "")
    sort = params.get("sort", "name")
    return Filters(
        q=" ".join(params.get("q", "").split())[:100],
        course=number("course"),
        tag=number("tag"),
        status=status if status in Contact.Status.values else "",
        source=params.get("source", "")[:100],
        sort=sort if sort in SORTS else "name",
    )


def contacts_for(teacher: Any, filters: Filters) -> QuerySet[Contact]:
    """Return the teacher's contacts matching `filters`, in the asked order."""
    contacts = Contact.objects.filter(teacher=teacher)
    if filters.q:
        contacts = contacts.filter(
            Q(name__icontains=filters.q)
            | Q(email__icontains=filters.q)
            | Q(company__icontains=filters.q)
        )
    if filters.status:
        contacts = contacts.filter(status=filters.status)
    if filters.tag:
        contacts = contacts.filter(
            Exists(
                Contact.tags.through.objects.filter(contact_id=OuterRef("pk"), tag_id=filters.tag)
            )
        )
    if filters.source:
        contacts = contacts.filter(source="" if filters.source == NO_SOURCE else filters.source)
    if filters.course:
        course = filters.course
        contacts = contacts.filter(
            Exists(
                Enrollment.objects.filter(
                    course_id=course, course__teacher=teacher, student_id=OuterRef("user_id")
                )
            )
            | Exists(
                WaitlistEntry.objects.filter(
                    course_id=course, course__teacher=teacher, student_id=OuterRef("user_id")
                )
            )
            | Exists(
                Lead.objects.filter(course_id=course, teacher=teacher, email=OuterRef("email"))
            )
        )
    return contacts.order_by(*SORTS[filters.sort])


@dataclass(frozen=True)
class Row:
    """One line of the list: the contact, their tags and their courses with this teacher."""

    contact: Contact
    tags: list[str]
    courses: list[str]


def rows_for(contacts: list[Contact], teacher: Any) -> list[Row]:
    """Return the page's rows with their tags and courses, in two queries for any non-empty page.

    Both are read by joining from the page's contact ids, so the count doesn't depend on
    who is on the page (accounts or not, tags or not).
    """
    if not contacts:
        return []
    ids = [c.pk for c in contacts]
    tags: dict[int, list[str]] = {pk: [] for pk in ids}
    links = Contact.tags.through.objects.filter(contact_id__in=ids).order_by("tag__name")
    for contact_id, name in links.values_list("contact_id", "tag__name"):
        tags[contact_id].append(name)
    courses: dict[int, list[str]] = {pk: [] for pk in ids}
    enrolments = (
        Enrollment.objects.filter(course__teacher=teacher, student__crm_entries__in=ids)
        .order_by("course__title")
        .values_list("student__crm_entries", "course__title")
    )
    for contact_id, title in enrolments:
        if contact_id in courses:
            courses[contact_id].append(title)
    return [Row(c, tags[c.pk], courses[c.pk]) for c in contacts]


@dataclass(frozen=True)
class FilterChoices:
    courses: list[Course]
    tags: list[Tag]
    sources: list[str]


def filter_choices(teacher: Any) -> FilterChoices:
    return FilterChoices(
        courses=list(Course.objects.filter(teacher=teacher).only("pk", "title").order_by("title")),
        tags=list(Tag.objects.filter(teacher=teacher).order_by("name")),
        sources=list(
            Contact.objects.filter(teacher=teacher)
            .exclude(source="")
            .values_list("source", flat=True)
            .distinct()
            .order_by("source")[:200]
        ),
    )


@dataclass(frozen=True)
class HistoryRow:
    course: Course
    label: str
    since: datetime | None
    until: datetime | None = None


@dataclass
class Story:
    """One contact as their page shows them."""

    contact: Contact
    notes: list[ContactNote]
    tags: list[Tag]
    history: list[HistoryRow] = field(default_factory=list)
    purchases: list[Purchase] = field(default_factory=list)
    all_tags: list[Tag] = field(default_factory=list)
    source: analytics.Source | None = None


def story_of(contact: Contact, teacher: Any) -> Story:
    """Gather one contact's notes, tags, courses, waitlist places, requests and payments."""
    story = Story(
        contact=contact,
        notes=list(contact.notes.all()),
        tags=list(contact.tags.order_by("name")),
        all_tags=list(Tag.objects.filter(teacher=teacher)),
    )
    if contact.user_id:
        story.source = analytics.source_for(contact.user_id)
        for enrolment in (
            Enrollment.objects.filter(course__teacher=teacher, student_id=contact.user_id)
            .select_related("course")
            .order_by("-enrolled_at")
        ):
            story.history.append(
                HistoryRow(
                    enrolment.course,
                    enrolment.get_status_display(),
                    enrolment.enrolled_at,
                    enrolment.ended_at,
                )
            )
        for entry in WaitlistEntry.objects.filter(
            course__teacher=teacher, student_id=contact.user_id
        ).select_related("course"):
            story.history.append(HistoryRow(entry.course, "On the waitlist", entry.joined_at))
        story.purchases = list(
            Purchase.objects.filter(teacher=teacher, student_id=contact.user_id)
            .exclude(status=Purchase.Status.PENDING)
            .prefetch_related("refunds")
            .order_by("-created_at")
        )
    for lead in Lead.objects.filter(teacher=teacher, email=contact.email).select_related("course"):
        story.history.append(
            HistoryRow(lead.course, "Asked to be told when it opens", lead.created_at)
        )
    return story
