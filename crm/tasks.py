from celery import shared_task

from crm import opening


@shared_task
def tell_leads_task() -> int:
    """Email the leads of courses that have opened (see crm.opening); return how many."""
    return opening.tell_leads()
