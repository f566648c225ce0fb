"""Following courses: every change to an enrolment or a waitlist place syncs that person's contact.

Model signals rather than the course events (`courses.events`): every event
that matters here (Enrolled, AddedByTeacher, GuestRegistered,
PromotedFromWaitlist) saves an enrolment, and holds, leaving, removal and
waitlist places change who a teacher's people are without an event of their
own. Subscribing to both would sync the same person twice. The work happens
once the transaction commits, in one pass per transaction (`services.schedule`).
"""

from typing import Any

from django.db.models.signals import post_delete, post_save

from courses.models import Course, Enrollment, WaitlistEntry
from crm import services


def _changed(sender: Any, instance: Enrollment | WaitlistEntry, **kwargs: Any) -> None:
    teacher_id = (
        Course.objects.filter(pk=instance.course_id).values_list("teacher_id", flat=True).first()
    )
    if teacher_id is not None:
        services.schedule(teacher_id, instance.student_id)


def connect() -> None:
    for model in (Enrollment, WaitlistEntry):
        post_save.connect(_changed, sender=model, dispatch_uid=f"crm-{model.__name__}-saved")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"crm-{model.__name__}-deleted")
