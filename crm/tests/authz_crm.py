"""Authorization-matrix entries for the contacts list and the storefront's notify-me form.

alice has a contact (bob, a student of "authz-crm") with a note. The list,
import and export are for teachers: carol gets her own (empty) list, bob and
staff (not teachers) a 404. One contact's pages are alice's only. The notify-me
form of a full course is for anyone; the unsubscribe link works for whoever
holds it.
"""

from django.urls import reverse
from django.utils import timezone

from courses.models import Enrollment
from courses.tests.factories import CourseFactory
from crm.models import Contact, ContactNote, Lead
from tests.authz import (
    ANON,
    NOT_FOUND,
    OK,
    OTHER,
    OWNER,
    STAFF,
    STUDENT,
    TO_LOGIN,
    Context,
    Entry,
    Expected,
    Outcome,
    everyone,
)

SLUG = "authz-crm"
FULL = "authz-crm-full"
REDIRECT = Outcome(302)
BAD = Outcome(400)


def build(ctx: Context) -> None:
    alice, bob = ctx.people["alice"], ctx.people["bob"]
    course = CourseFactory.create(teacher=alice, slug=SLUG)
    Enrollment.objects.create(course=course, student=bob)
    contact = Contact.objects.create(
        teacher=alice, user=bob, email=bob.email, name="Bob Baker", status="student"
    )
    ctx.objects["crm_contact"] = contact
    ctx.objects["crm_note"] = ContactNote.objects.create(contact=contact, body="Likes clay")
    full = CourseFactory.create(teacher=alice, slug=FULL, capacity=1)
    Enrollment.objects.create(course=full, student=ctx.people["dave"])
    ctx.objects["crm_lead"] = Lead.objects.create(
        course=full, teacher=alice, email="lead@example.com", consent_at=timezone.now()
    )


def _teachers(outcome: Expected, other: Expected | None = None) -> dict[str, Expected]:
    return {
        ANON: TO_LOGIN,
        STUDENT: NOT_FOUND,
        OTHER: other or outcome,
        OWNER: outcome,
        STAFF: NOT_FOUND,
    }


def _alice_only(owner: Expected) -> dict[str, Expected]:
    return {ANON: TO_LOGIN, STUDENT: NOT_FOUND, OTHER: NOT_FOUND, OWNER: owner, STAFF: NOT_FOUND}


def _contact_url(name: str) -> Entry:
    return Entry(
        get=_alice_only(OK), url=lambda ctx: reverse(name, args=[ctx.objects["crm_contact"].pk])
    )


def _note_url(ctx: Context, name: str) -> str:
    return reverse(name, args=[ctx.objects["crm_contact"].pk, ctx.objects["crm_note"].pk])


ENTRIES: dict[str, Entry] = {
    "crm:list": Entry(get=_teachers(OK)),
    "crm:export": Entry(get=_teachers(OK)),
    # Nobody selected: a teacher is told so (400); another teacher's people are a 404
    # (crm/tests/test_bulk_tag.py).
    "crm:bulk_tag": Entry(post=_teachers(BAD), data={"tag": "VIP", "action": "add"}),
    "crm:import": Entry(get=_teachers(OK), post=_teachers(BAD)),
    "crm:import_confirm": Entry(post=_teachers(BAD)),
    "crm:contact": _contact_url("crm:contact"),
    "crm:contact_edit": Entry(
        get=_alice_only(OK),
        post=_alice_only(REDIRECT),
        url=lambda ctx: reverse("crm:contact_edit", args=[ctx.objects["crm_contact"].pk]),
        data={"name": "Bob Baker", "phone": "+44 20 7946 0000", "company": "Clay Co"},
    ),
    "crm:contact_tags": Entry(
        post=_alice_only(REDIRECT),
        url=lambda ctx: reverse("crm:contact_tags", args=[ctx.objects["crm_contact"].pk]),
        data={"tag": "Evening"},
    ),
    "crm:note_add": Entry(
        post=_alice_only(REDIRECT),
        url=lambda ctx: reverse("crm:note_add", args=[ctx.objects["crm_contact"].pk]),
        data={"body": "Asked about the kiln"},
    ),
    "crm:note_edit": Entry(
        get=_alice_only(OK),
        post=_alice_only(REDIRECT),
        url=lambda ctx: _note_url(ctx, "crm:note_edit"),
        data={"body": "Likes clay a lot"},
    ),
    "crm:note_delete": Entry(
        post=_alice_only(REDIRECT), url=lambda ctx: _note_url(ctx, "crm:note_delete")
    ),
    "crm:notify_me": Entry(
        get=everyone(OK),
        post=everyone(OK),
        url=lambda ctx: reverse("crm:notify_me", args=[FULL]),
        data={"email": "someone@example.com", "consent": "on"},
    ),
    "crm:unsubscribe": Entry(
        get={ANON: OK, STUDENT: OK, OTHER: OK, OWNER: OK, STAFF: OK},
        post=everyone(OK),
        url=lambda ctx: reverse("crm:unsubscribe", args=[ctx.objects["crm_lead"].token]),
    ),
}
