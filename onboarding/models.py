"""A person's answers to the onboarding survey, kept five years from submission.

Answers are rows (`SurveyAnswer`), one per chosen option, so the admin's
aggregates are one GROUP BY and never read a person's answers one by one.
"""

from django.conf import settings
from django.db import models
from django.utils.timezone import now

from onboarding.questions import Role


class SurveyResponse(models.Model):
    """Whether a person answered or skipped the survey, as whom, and when."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="survey_response",
        verbose_name="person",
    )
    role = models.CharField(
        "answered as", max_length=10, choices=Role.CHOICES, help_text="Which survey was shown."
    )
    skipped = models.BooleanField(
        "skipped", default=False, help_text="Chose to skip the survey: nothing was answered."
    )
    submitted_at = models.DateTimeField(
        "submitted", default=now, db_index=True, help_text="Kept five years from this time."
    )

    class Meta:
        verbose_name = "survey response"
        verbose_name_plural = "survey responses"

    def __str__(self) -> str:
        return f"Survey response {self.pk}"


class SurveyAnswer(models.Model):
    """One chosen option of one question (a multiple-choice question gives several rows)."""

    response = models.ForeignKey(SurveyResponse, on_delete=models.CASCADE, related_name="answers")
    question = models.CharField("question", max_length=32)
    choice = models.CharField("answer", max_length=32)

    class Meta:
        verbose_name = "survey answer"
        verbose_name_plural = "survey answers"
        constraints = [
            models.UniqueConstraint(
                fields=["response", "question", "choice"], name="onboarding_answer_unique"
            ),
        ]
        indexes = [models.Index(fields=["question", "choice"], name="onboarding_answer_bucket")]

    def __str__(self) -> str:
        return f"{self.question}: {self.choice}"
