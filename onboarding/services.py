"""Recording a person's survey: answered or skipped, replacing what they said before."""

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from onboarding import selectors
from onboarding.models import SurveyAnswer, SurveyResponse
from onboarding.questions import QUESTIONS


@transaction.atomic
def save_answers(*, user: User, role: str, answers: dict[str, list[str]]) -> SurveyResponse:
    """Store `user`'s answers as their survey for `role`; the five years start again now.

    Answers that aren't an option of the role's questions are dropped: the form
    checks them, and this keeps any other caller from storing free text.
    """
    valid = {q.key: {c for c, _ in q.choices} for q in QUESTIONS[role]}
    rows = sorted(
        {(q, c) for q, choices in answers.items() for c in choices if c in valid.get(q, ())}
    )
    response = _fresh_response(user=user, role=role, skipped=not rows)
    selectors.forget(user)
    SurveyAnswer.objects.bulk_create(
        [SurveyAnswer(response=response, question=q, choice=c) for q, c in rows]
    )
    return response


def skip(*, user: User, role: str) -> SurveyResponse:
    """Record that `user` skipped the survey, so they aren't asked again.

    Someone who answered before and now skips a retake keeps their answers.
    """
    response, _ = SurveyResponse.objects.get_or_create(
        user=user, defaults={"role": role, "skipped": True}
    )
    selectors.forget(user)
    return response


def _fresh_response(*, user: User, role: str, skipped: bool) -> SurveyResponse:
    # One response per person (unique user): update it in place and replace its answers.
    response, created = SurveyResponse.objects.select_for_update().get_or_create(
        user=user, defaults={"role": role, "skipped": skipped}
    )
    if not created:
        response.role = role
        response.skipped = skipped
        response.submitted_at = timezone.now()
        response.save(update_fields=["role", "skipped", "submitted_at"])
        response.answers.all().delete()
    return response
