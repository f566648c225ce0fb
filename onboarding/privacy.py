"""What the onboarding survey holds about people: their answers, for five years.

The response says whether the person answered or skipped, in which role and
when; the answers are the options they chose. Both are deleted five years
after submission (a retake starts the five years again) or with the account.
"""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from onboarding.models import SurveyAnswer, SurveyResponse
from onboarding.questions import question
from privacy.registry import EXPORT_CHUNK, Retention, register

KEEP = timedelta(days=5 * 365 + 1)  # five years, one leap day among them
RETENTION_TEXT = "5 years from when you answered, or until your account is deleted"
CATEGORY = "Onboarding survey"


def _cutoff() -> Any:
    return timezone.now() - KEEP


def _old_responses() -> QuerySet:
    return SurveyResponse.objects.filter(submitted_at__lt=_cutoff())


def _old_answers() -> QuerySet:
    return SurveyAnswer.objects.filter(response__submitted_at__lt=_cutoff())


def _export_answers(user: Any) -> Iterator[dict[str, Any]]:
    rows = SurveyAnswer.objects.filter(response__user=user).select_related("response")
    for answer in rows.order_by("question", "choice").iterator(chunk_size=EXPORT_CHUNK):
        asked = question(answer.response.role, answer.question)
        yield {
            "question": asked.text if asked else answer.question,
            "answer": asked.label_for(answer.choice) if asked else answer.choice,
            "question_key": answer.question,
            "answer_key": answer.choice,
        }


register(
    SurveyResponse,
    category=CATEGORY,
    purpose="Whether you answered or skipped the welcome questions after signing up, as a "
    "teacher or a student, and when; used to set up your dashboard and not ask again",
    owner="user",
    dated_by="submitted_at",
    fields=["role", "skipped", "submitted_at"],
    retention=Retention(RETENTION_TEXT, period=KEEP, expired=_old_responses),
)
register(
    SurveyAnswer,
    category=CATEGORY,
    purpose="Your answers to the welcome questions (goals, tools you use, audience, budget, "
    "subject), used to choose your dashboard's first view, course suggestions and the AI "
    "assistant's tone; staff see only totals of ten people or more",
    owner="response__user",
    exporter=_export_answers,
    schema={
        "question": "The question, as it was asked",
        "answer": "The option you chose",
        "question_key": "The question's short identifier",
        "answer_key": "The option's short identifier",
    },
    retention=Retention(RETENTION_TEXT, period=KEEP, expired=_old_answers),
)
