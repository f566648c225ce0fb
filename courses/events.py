"""What happens in courses that apps above them react to: a small typed event API.

Courses sit below notifications and messaging and import neither. A course
service emits an event (a frozen dataclass naming what happened) inside its
transaction; each subscriber is called once the transaction commits, so a
rolled-back change tells no one. Apps subscribe in their AppConfig.ready.
Subscribers should be quick (enqueue a task): they run in the request that
made the change.
"""

import functools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction


@dataclass(frozen=True)
class ItemPublished:
    """An item became visible to the course's students."""

    item_id: int
    kind: str


@dataclass(frozen=True)
class GradeReturned:
    """A teacher returned a graded submission to its student."""

    submission_id: int


@dataclass(frozen=True)
class Enrolled:
    """A student took a seat in a course themselves."""

    enrollment_id: int


@dataclass(frozen=True)
class AddedByTeacher:
    """A teacher added a student (who was emailed already) to their course."""

    enrollment_id: int


@dataclass(frozen=True)
class GuestRegistered:
    """A visitor registered for a course with their email address, and was invited."""

    enrollment_id: int


@dataclass(frozen=True)
class PromotedFromWaitlist:
    """A seat came free and went to the next student on the waitlist."""

    enrollment_id: int


@dataclass(frozen=True)
class CourseClosed:
    """A course was deleted because its teacher's account was erased.

    The course is gone once subscribers run, so the event carries what they need.
    """

    course_id: int
    title: str
    student_ids: tuple[int, ...]


type Event = (
    ItemPublished
    | GradeReturned
    | Enrolled
    | AddedByTeacher
    | GuestRegistered
    | PromotedFromWaitlist
    | CourseClosed
)

_subscribers: defaultdict[type, list[Callable[[Any], None]]] = defaultdict(list)


def subscribe[E: Event](event_type: type[E], handler: Callable[[E], None]) -> None:
    """Call `handler` with every event of `event_type`, once its transaction commits."""
    _subscribers[event_type].append(handler)


def unsubscribe[E: Event](event_type: type[E], handler: Callable[[E], None]) -> None:
    """Stop calling `handler` for events of `event_type`."""
    _subscribers[event_type].remove(handler)


def emit(event: Event) -> None:
    """Announce `event` to its subscribers when the current transaction commits."""
    for handler in _subscribers[type(event)]:
        transaction.on_commit(functools.partial(handler, event))
