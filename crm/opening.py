"""Telling leads, once, that the course they asked about has opened.

A periodic job looks at the courses that have leads not told yet and asks the
enrolment policy whether each is open now (public, taking enrolments, a seat
free). Each lead is claimed with a conditional update before its email is
queued in the same transaction, so two runs never tell anyone twice.
"""

from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from courses import enrolment_policy
from courses.models import Course
from crm.models import Lead
from outbox import services as outbox

BATCH = 500


def course_is_open(course: Course) -> bool:
    answer = enrolment_policy.decide(enrolment_policy.facts_for(course))
    return answer.public_reachable and answer.closed is None and answer.seats_left != 0


def tell_leads(*, at: datetime | None = None) -> int:
    """Email every lead whose course is open now, once; return how many were told."""
    at = at or timezone.now()
    waiting = Lead.objects.filter(notified_at__isnull=True)
    course_ids = set(waiting.values_list("course_id", flat=True).distinct()[:BATCH])
    courses = Course.objects.filter(pk__in=course_ids).with_enrolment_facts(at)
    told = 0
    for course in courses:
        if not course_is_open(course):
            continue
        for lead in waiting.filter(course=course).order_by("pk")[:BATCH]:
            told += _tell(lead, course, at)
    return told


@transaction.atomic
def _tell(lead: Lead, course: Course, at: datetime) -> int:
    if not Lead.objects.filter(pk=lead.pk, notified_at__isnull=True).update(notified_at=at):
        return 0
    unsubscribe = f"{settings.SITE_URL}{reverse('crm:unsubscribe', args=[lead.token])}"
    context = {
        "lead": lead,
        "course": course,
        "course_url": f"{settings.SITE_URL}{course.get_absolute_url()}",
        "unsubscribe_url": unsubscribe,
        "site_name": settings.SITE_NAME,
    }
    subject = " ".join(render_to_string("crm/email/course_open_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("crm/email/course_open_message.txt", context),
        to=[lead.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(
        render_to_string("crm/email/course_open_message.html", context), "text/html"
    )
    outbox.enqueue_email(key=f"crm-lead-open:{lead.pk}", message=message)
    return 1
