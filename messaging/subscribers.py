"""Messaging's subscriptions to course events (connected in MessagingConfig.ready).

A student who joins a course joins its channel and groups: the unread total
kept for their badge was counted without them, so it is counted again.
"""

from courses import events as course_events
from courses.models import Enrollment
from messaging import live

type Joined = (
    course_events.Enrolled
    | course_events.AddedByTeacher
    | course_events.GuestRegistered
    | course_events.PromotedFromWaitlist
)


def on_joined(event: Joined) -> None:
    """Count the new student's unread messages again, their course's channel included."""
    student = Enrollment.objects.filter(pk=event.enrollment_id).values_list("student_id", flat=True)
    live.renew_badges(list(student))


def connect() -> None:
    """Subscribe to the course events that change who is in a conversation."""
    course_events.subscribe(course_events.Enrolled, on_joined)
    course_events.subscribe(course_events.AddedByTeacher, on_joined)
    course_events.subscribe(course_events.GuestRegistered, on_joined)
    course_events.subscribe(course_events.PromotedFromWaitlist, on_joined)
