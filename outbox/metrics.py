"""Outgoing email for /metrics, counted when the page is scraped (core.metrics)."""

from collections.abc import Iterator

from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric

from core import metrics
from outbox.models import OutboundEmail

_OPEN = (OutboundEmail.State.PENDING, OutboundEmail.State.SENDING, OutboundEmail.State.FAILED)


@metrics.register_source
def outbox_emails() -> Iterator[Metric]:
    """Emails waiting or given up on, and how long the oldest waiting one has waited."""
    counts = dict(
        OutboundEmail.objects.filter(state__in=_OPEN)
        .values_list("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    emails = GaugeMetricFamily(
        "lectern_outbox_emails",
        "Outgoing emails by state: pending (waiting or between retries), sending, failed "
        "(given up; kept until the retention sweep).",
        labels=["state"],
    )
    for state in _OPEN:
        emails.add_metric([str(state)], counts.get(state, 0))
    yield emails
    oldest = OutboundEmail.objects.filter(state=OutboundEmail.State.PENDING).aggregate(
        at=Min("created_at")
    )["at"]
    yield GaugeMetricFamily(
        "lectern_outbox_oldest_pending_seconds",
        "Age of the oldest email still waiting to be sent (0 when none waits).",
        value=(timezone.now() - oldest).total_seconds() if oldest else 0,
    )
