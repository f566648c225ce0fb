"""Notifications' subscriptions to course events (connected in NotificationsConfig.ready).

Each course event becomes one Celery task (see `events.handle`); the course's
event API calls these once the course's transaction has committed.
"""

import logging

from kombu.exceptions import OperationalError as BrokerUnreachable

from courses import events as course_events
from notifications import events, tasks

logger = logging.getLogger(__name__)

# Only these kinds of item are news worth a notification when published.
_NEWS_KINDS = ("announcement", "assignment")


def _enqueue(event: str, object_id: int) -> None:
    # Called after the course's change committed: a broker that is away must not turn the
    # saved change into an error page. The notification is lost then, and logged.
    try:
        tasks.notify_course_event_task.delay(event, object_id)
    except BrokerUnreachable:
        logger.exception("could not enqueue a notification", extra={"event": event})


def on_item_published(event: course_events.ItemPublished) -> None:
    """Tell enrolled students about a newly published announcement or assignment."""
    if event.kind in _NEWS_KINDS:
        _enqueue(events.ITEM_PUBLISHED, event.item_id)


def on_grade_returned(event: course_events.GradeReturned) -> None:
    """Tell the student their grade is back."""
    _enqueue(events.GRADE_RETURNED, event.submission_id)


def on_enrolled(event: course_events.Enrolled) -> None:
    """Confirm a student's own enrolment to them, and tell the teacher."""
    _enqueue(events.ENROLLED, event.enrollment_id)


def on_added_by_teacher(event: course_events.AddedByTeacher) -> None:
    """Show the student the course they were added to (their email went out already)."""
    _enqueue(events.ADDED_BY_TEACHER, event.enrollment_id)


def on_guest_registered(event: course_events.GuestRegistered) -> None:
    """Tell the teacher about a visitor who registered; the visitor got an invitation."""
    _enqueue(events.GUEST_REGISTERED, event.enrollment_id)


def on_promoted(event: course_events.PromotedFromWaitlist) -> None:
    """Tell the student a seat came free for them."""
    _enqueue(events.PROMOTED, event.enrollment_id)


def on_course_closed(event: course_events.CourseClosed) -> None:
    """Tell a deleted course's students it has closed."""
    events.notify_course_closed(
        course_id=event.course_id, title=event.title, student_ids=event.student_ids
    )


def connect() -> None:
    """Subscribe to every course event notifications tell people about."""
    course_events.subscribe(course_events.ItemPublished, on_item_published)
    course_events.subscribe(course_events.GradeReturned, on_grade_returned)
    course_events.subscribe(course_events.Enrolled, on_enrolled)
    course_events.subscribe(course_events.AddedByTeacher, on_added_by_teacher)
    course_events.subscribe(course_events.GuestRegistered, on_guest_registered)
    course_events.subscribe(course_events.PromotedFromWaitlist, on_promoted)
    course_events.subscribe(course_events.CourseClosed, on_course_closed)
