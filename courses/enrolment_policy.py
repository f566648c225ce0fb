"""Who may enrol in a course, and how many seats are left: the one place that decides.

Every page and endpoint that shows or takes a seat asks this module and only
displays or enforces its answer: the storefront page (and the freshness check
of its cached copy), the cover image, the enrol, register and waitlist
endpoints, the teacher's pages and the enrolment services under their lock.

How to ask
----------
1. Read the course's facts. In one query by slug (what the storefront's cached
   page checks on every visit)::

       facts = enrolment_policy.read_facts(slug)          # CourseFacts | None

   or from a course loaded with ``Course.objects.with_enrolment_facts()``
   (``facts_for(course)`` counts the seats itself when the course wasn't).
2. Decide, for a visitor or for a person::

       answer = enrolment_policy.decide(facts)                       # a visitor
       answer = enrolment_policy.decide(facts, viewer_for(user, course))

   ``answer.reachable`` False means the page and every action answer 404;
   ``answer.offer`` is what the enrol box shows; ``answer.message`` says why
   a student can't enrol, ``answer.teacher_message`` says it to the teacher.

The rules
---------
- A course is reachable by link when it is public or unlisted, not archived,
  and its teacher's account is active. Its teacher always reaches it.
- A reachable course is open for students to enrol by themselves when it is
  free, or when it is paid and its teacher can take payments (their Stripe
  account has charges and payouts on: `courses.selling`, filled in by
  billing). A paid course of a teacher who can't sell is reachable but
  closed. An open paid course is bought, never enrolled in for free: its
  seat is held while the payment is in progress (`needs_payment`).
- A paid course whose teacher's new paid enrolments are paused (over their
  plan's limit after its grace, or under review: `courses.selling` again) is
  reachable but closed, with the reason billing gives in plain words.
  Students already enrolled keep everything: the pause only stops new seats.
- Seats taken are active enrolments plus holds not yet expired. A visitor's
  registration is a hold until they confirm their email address; such a
  guest hold yields its seat to a signed-in student (whose address is
  verified) when the course is otherwise full, so made-up addresses can't
  turn real students away. Seats left are therefore counted per viewer:
  visitors see every hold, signed-in students see guest holds as free.
- A full course offers its waitlist to signed-in students; visitors are asked
  to log in to join it.

Everything here is pure: no writes, and no queries beyond those named above.
"""

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from django.db import connections, router
from django.utils.timezone import now

from courses.models import Course, Enrollment, Visibility, WaitlistEntry

# The columns `read_facts` reads; a caller that needs them in its own query can
# use `Course.objects.with_enrolment_facts().values(*FACT_FIELDS)`.
FACT_FIELDS = (
    "pk",
    "updated_at",
    "visibility",
    "archived_at",
    "teacher_active",
    "teacher_can_sell",
    "teacher_paused",
    "price_amount",
    "capacity",
    "seats_taken",
    "guest_holds",
)


class Closed(StrEnum):
    """Why a course takes no students by themselves. The order is the order of precedence."""

    TEACHER_INACTIVE = "teacher_inactive"
    ARCHIVED = "archived"
    DRAFT = "draft"
    PAID = "paid"
    PAUSED = "paused"


class Offer(StrEnum):
    """What the enrol box offers one viewer."""

    MANAGE = "manage"  # the viewer teaches the course
    GO_TO_COURSE = "go_to_course"  # already enrolled
    HELD = "held"  # a seat is held for them (payment or confirmation pending)
    REMOVED = "removed"  # their teacher removed them; they must ask to come back
    CLOSED = "closed"  # see `Answer.closed` and `Answer.message`
    ENROL = "enrol"  # signed in, a seat is free: one click
    REGISTER = "register"  # a visitor, a seat is free: name and email
    JOIN_WAITLIST = "join_waitlist"  # signed in, the course is full
    ON_WAITLIST = "on_waitlist"  # signed in and waiting
    LOG_IN_TO_WAIT = "log_in_to_wait"  # a visitor, the course is full


_STUDENT_WORDS = {
    Closed.TEACHER_INACTIVE: "This course isn't available.",
    Closed.ARCHIVED: "This course has ended and no longer takes enrolments.",
    Closed.DRAFT: "This course isn't open for enrolment yet.",
    Closed.PAID: "This course isn't open for enrolment yet.",
    Closed.PAUSED: "This teacher isn't taking new paid enrolments right now.",
}
_TEACHER_WORDS = {
    Closed.TEACHER_INACTIVE: "Your account is switched off, so nobody can see or join this course.",
    Closed.ARCHIVED: "Archived: visitors get “page not found” and nobody can enrol.",
    Closed.DRAFT: "Draft: only you can see this course. Publish it to open enrolment.",
    Closed.PAID: (
        "You can't take payments yet, so students see “not open for enrolment yet”. "
        "Connect Stripe from your dashboard to sell this course; meanwhile you can add "
        "students yourself from the roster."
    ),
    Closed.PAUSED: (
        "New paid enrolments in your courses are paused, so students can't buy this course "
        "now. Your dashboard says why and what opens them again; students already enrolled "
        "keep full access."
    ),
}
FULL_WORDS = "This course is full. Join the waitlist to get the next free seat."
REMOVED_WORDS = "Your teacher removed you from this course. Ask them if you'd like to rejoin."


@dataclass(frozen=True)
class CourseFacts:
    """The few facts about a course that the rules read; one query fetches them all."""

    pk: int
    updated_at: datetime | None  # as the database returns it: for cache keys only
    visibility: str
    archived: bool
    teacher_active: bool
    price_amount: int
    capacity: int | None
    seats_taken: int  # active enrolments + unexpired holds
    guest_holds: int = 0  # of those, holds of visitors yet to confirm their address
    teacher_can_sell: bool = False  # their payments are on (`courses.selling`)
    # Why their new paid enrolments are paused, in words for students; "" when they aren't.
    teacher_paused: str = ""

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "CourseFacts":
        """Build the facts from a `values(*FACT_FIELDS)` row."""
        return cls(
            pk=row["pk"],
            updated_at=row["updated_at"],
            visibility=row["visibility"],
            archived=row["archived_at"] is not None,
            teacher_active=bool(row["teacher_active"]),
            price_amount=row["price_amount"],
            capacity=row["capacity"],
            seats_taken=row["seats_taken"] or 0,
            guest_holds=row["guest_holds"] or 0,
            teacher_can_sell=bool(row["teacher_can_sell"]),
            teacher_paused=row["teacher_paused"] or "",
        )


@dataclass(frozen=True)
class Viewer:
    """Who is asking, as far as the rules care."""

    signed_in: bool = False
    is_teacher: bool = False
    status: str = ""  # their Enrollment.Status in the course, '' without a row
    on_waitlist: bool = False


VISITOR = Viewer()


@dataclass(frozen=True)
class Answer:
    """The decision for one course and one viewer. Templates only display it."""

    reachable: bool  # False: the page and every action answer 404 for this viewer
    public_reachable: bool  # reachable by any visitor (so the page may be shared by caches)
    closed: Closed | None  # why students can't enrol by themselves, None when open
    message: str  # the words for a student when they can't take a seat now
    teacher_message: str  # the words for the teacher about enrolment, '' when open
    capacity: int | None
    seats_taken: int  # as this viewer counts them
    seats_left: int | None  # None: no seat limit
    needs_payment: bool
    offer: Offer

    @property
    def open(self) -> bool:
        return self.closed is None

    @property
    def full(self) -> bool:
        return self.seats_left == 0

    @property
    def can_take_seat(self) -> bool:
        """Say whether this viewer may take (or hold) a seat by themselves right now."""
        return self.offer in (Offer.ENROL, Offer.REGISTER)

    @property
    def can_join_waitlist(self) -> bool:
        """Say whether the waitlist takes this viewer: open, and full for them."""
        return self.open and self.full and self.offer in (Offer.JOIN_WAITLIST, Offer.ON_WAITLIST)

    @property
    def refusal(self) -> str:
        """Return why this viewer can't take a seat now, or '' when they can."""
        if self.can_take_seat:
            return ""
        if self.offer == Offer.REMOVED:
            return REMOVED_WORDS
        if self.closed is not None:
            return self.message
        if self.full:
            return FULL_WORDS
        return ""


def closed_reason(facts: CourseFacts) -> Closed | None:
    """Return why students can't enrol by themselves, most important first; None when open."""
    if not facts.teacher_active:
        return Closed.TEACHER_INACTIVE
    if facts.archived:
        return Closed.ARCHIVED
    if facts.visibility == Visibility.DRAFT:
        return Closed.DRAFT
    if facts.price_amount > 0 and not facts.teacher_can_sell:
        return Closed.PAID
    if facts.price_amount > 0 and facts.teacher_paused:
        return Closed.PAUSED
    return None


def seats_left(capacity: int | None, taken: int) -> int | None:
    """Return the free seats; None means unlimited."""
    if capacity is None:
        return None
    return max(0, capacity - taken)


def decide(facts: CourseFacts, viewer: Viewer = VISITOR) -> Answer:
    """Decide what `viewer` may see and do about enrolling in the course."""
    closed = closed_reason(facts)
    public_reachable = closed in (None, Closed.PAID, Closed.PAUSED)
    reachable = public_reachable or viewer.is_teacher
    # Guest holds yield to a signed-in student (see the module docstring).
    yielding = facts.guest_holds if viewer.signed_in and not viewer.is_teacher else 0
    taken = max(0, facts.seats_taken - yielding)
    left = seats_left(facts.capacity, taken)
    return Answer(
        reachable=reachable,
        public_reachable=public_reachable,
        closed=closed,
        message=_student_words(closed, facts),
        teacher_message=_TEACHER_WORDS[closed] if closed else "",
        capacity=facts.capacity,
        seats_taken=taken,
        seats_left=left,
        needs_payment=facts.price_amount > 0,
        offer=_offer(closed, left, viewer),
    )


def _student_words(closed: Closed | None, facts: CourseFacts) -> str:
    if closed == Closed.PAUSED:
        return facts.teacher_paused or _STUDENT_WORDS[closed]
    return _STUDENT_WORDS[closed] if closed else ""


def _offer(closed: Closed | None, left: int | None, viewer: Viewer) -> Offer:
    status = Enrollment.Status
    if viewer.is_teacher:
        return Offer.MANAGE
    if viewer.status == status.ACTIVE:
        return Offer.GO_TO_COURSE
    if viewer.status == status.HELD:
        # Signed in with a seat held in an open course: their address is proven
        # (they could sign in), so one click makes the seat theirs.
        return Offer.ENROL if closed is None and viewer.signed_in else Offer.HELD
    if viewer.status == status.REMOVED:
        return Offer.REMOVED
    if closed is not None:
        return Offer.CLOSED
    if left == 0:
        if not viewer.signed_in:
            return Offer.LOG_IN_TO_WAIT
        return Offer.ON_WAITLIST if viewer.on_waitlist else Offer.JOIN_WAITLIST
    return Offer.ENROL if viewer.signed_in else Offer.REGISTER


def teacher_add_refusal(facts: CourseFacts) -> str:
    """Return why the teacher can't add students themselves, or '' when they can.

    Teachers may give seats in drafts and paid courses (a free seat they hand
    out), never in an archived course, and never beyond capacity.
    """
    if facts.archived:
        return "This course is archived: it no longer takes students."
    return ""


# --- Reading the facts ---------------------------------------------------------------------------


def read_facts(slug: str, at: datetime | None = None) -> CourseFacts | None:
    """Read the facts of the course `slug` in one query; None when there is no such course.

    This runs on every visit to the most visited page, so the ORM builds and
    compiles the query once per process (`_compiled_facts_query`) and each
    call only runs it with its own slug and time: building and compiling it
    afresh cost several times the query itself.
    """
    alias = router.db_for_read(Course)
    sql, params = _compiled_facts_query(alias)
    ops = connections[alias].ops
    at_value, sentinel_at = ops.adapt_datetimefield_value(at or now()), _sentinel_at(alias)
    values = [
        slug if value == _SLUG else at_value if value == sentinel_at else value for value in params
    ]
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
        names = [column[0] for column in cursor.description]
    return CourseFacts.from_row(dict(zip(names, row, strict=True))) if row else None


# Stand-ins compiled into the query's parameters, swapped for each call's own values.
_SLUG = "\x00enrolment-policy-slug"
_AT = datetime(2000, 1, 1, tzinfo=UTC)


def _sentinel_at(alias: str) -> Any:
    return connections[alias].ops.adapt_datetimefield_value(_AT)


@functools.cache
def _compiled_facts_query(alias: str) -> tuple[str, tuple[Any, ...]]:
    """Return the SQL and parameters of `read_facts`'s query, as the ORM builds them."""
    queryset = (
        Course.objects.using(alias)
        .filter(slug=_SLUG)
        .order_by()
        .with_enrolment_facts(_AT)
        .values(*FACT_FIELDS)[:1]
    )
    sql, params = queryset.query.sql_with_params()
    return sql, tuple(params)


def facts_for(course: Course, at: datetime | None = None) -> CourseFacts:
    """Return the facts of a loaded course.

    A course loaded with `with_enrolment_facts()` costs nothing more; otherwise
    the seats are counted in one query (and the teacher read, unless loaded).
    """
    if not hasattr(course, "seats_taken"):
        fresh = read_facts(course.slug, at)
        if fresh is None:  # deleted meanwhile: nothing is open
            return CourseFacts(course.pk, None, Visibility.DRAFT, True, False, 0, None, 0, 0)
        return fresh
    teacher_active = getattr(course, "teacher_active", None)
    if teacher_active is None:
        teacher_active = course.teacher.is_active
    return CourseFacts(
        pk=course.pk,
        updated_at=course.updated_at,
        visibility=course.visibility,
        archived=course.archived_at is not None,
        teacher_active=bool(teacher_active),
        price_amount=course.price_amount,
        capacity=course.capacity,
        seats_taken=getattr(course, "seats_taken", 0) or 0,
        guest_holds=getattr(course, "guest_holds", 0) or 0,
        teacher_can_sell=bool(getattr(course, "teacher_can_sell", False)),
        teacher_paused=getattr(course, "teacher_paused", "") or "",
    )


def viewer_for(user: Any, course: Course) -> Viewer:
    """Describe `user` for the rules: two small queries for a signed-in student, none otherwise."""
    if not getattr(user, "is_authenticated", False):
        return VISITOR
    if course.teacher_id == user.pk:
        return Viewer(signed_in=True, is_teacher=True)
    row = (
        Enrollment.objects.filter(course=course, student_id=user.pk)
        .values_list("status", "hold_expires_at")
        .first()
    )
    status, expires_at = row if row is not None else ("", None)
    if status == Enrollment.Status.HELD and expires_at is not None and expires_at <= now():
        status = Enrollment.Status.RELEASED  # lapsed; the sweep will record it
    waiting = (
        status != Enrollment.Status.ACTIVE
        and WaitlistEntry.objects.filter(course=course, student_id=user.pk).exists()
    )
    return Viewer(signed_in=True, status=status or "", on_waitlist=waiting)


def answer_for(user: Any, course: Course) -> Answer:
    """Decide for `user` (signed in or not) about a loaded course."""
    return decide(facts_for(course), viewer_for(user, course))
