"""What course AI holds about people.

The request log keeps who asked, for which course, and the ids of the items
given as context, never what was asked or answered; it is deleted after 12
months. A teacher's monthly unit counters go with their account. The consent
record says what the person agreed to and where their requests go.
"""

from datetime import timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import lazy

from ai import client, services
from ai.models import AiConsent, AiRequest, AiUsageMonth, PolicySummary
from privacy.registry import Basis, Consent, Retention, consent, exempt, register

REQUEST_LOG_KEEP = timedelta(days=365)


def _old_requests() -> QuerySet:
    return AiRequest.objects.filter(created_at__lt=timezone.now() - REQUEST_LOG_KEEP)


register(
    AiRequest,
    category="AI requests",
    purpose="A log of each AI request you made or that counted against your units: the "
    "action, the course, the ids of the course items given as context (not their content), "
    "tokens, units, model, time taken and outcome",
    owner="user",
    dated_by="created_at",
    fields=[
        "course_id",
        "teacher_id",
        "action",
        "context_item_ids",
        "prompt_tokens",
        "completion_tokens",
        "units",
        "model",
        "latency_ms",
        "outcome",
        "error",
        "created_at",
    ],
    retention=Retention(
        "12 months, or until your account is deleted",
        period=REQUEST_LOG_KEEP,
        expired=_old_requests,
    ),
)
register(
    AiUsageMonth,
    category="AI units",
    purpose="The AI units counted against your plan in each calendar month",
    owner="teacher",
    fields=["month", "units"],
    retention=Retention("While your account exists, one counter a month"),
)
register(
    AiConsent,
    category="AI consent",
    purpose="Whether you agreed to AI features, when you agreed or withdrew, and the AI "
    "service your requests go to",
    owner="user",
    dated_by="given_at",
    fields=["given", "given_at", "withdrawn_at", "endpoint_host"],
    retention=Retention("While your account exists"),
    basis=Basis.CONSENT,
)


def _help_text() -> str:
    host = client.endpoint_host()
    if not host:
        return "AI features are off on this server, so nothing is sent anywhere."
    return (
        f"When you use an AI feature, what you ask or write, with the course material it is "
        f"about, is sent to the AI service at {host} to write the answer. Nothing is sent "
        f"unless you turn this on and use a feature; turning it off stops it at once."
    )


def _save(user: Any, wanted: bool) -> None:
    if wanted and not services.has_consented(user) and client.configured():
        services.give_consent(user)
    elif not wanted:
        services.withdraw_consent(user)


consent(
    Consent(
        name="ai_features",
        label="Use AI features",
        # Worked out each time the page is shown: it names the endpoint configured now.
        help_text=lazy(_help_text, str)(),
        given=services.has_consented,
        save=_save,
        position=30,
    )
)

exempt(
    PolicySummary,
    reason="A summary of a policy page's public text, shared by everyone: no person's data.",
)
