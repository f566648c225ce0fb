"""The AI request log, each teacher's monthly units, and each person's consent to AI."""

from django.conf import settings
from django.db import models
from django.utils.timezone import now


class AiRequest(models.Model):
    """One request to the AI endpoint, or one refused before it was sent.

    The items given as context are kept by id only: what was sent can be
    traced to the course's items without the log holding their content.
    """

    class Action(models.TextChoices):
        ANNOUNCEMENT = "announcement", "Draft an announcement"
        QUESTIONS = "questions", "Suggest assignment questions"
        RECAP = "recap", "Summarise a session"
        FEEDBACK = "feedback", "Draft feedback"
        ASSISTANT = "assistant", "Course assistant"
        EXPLAIN_ITEM = "explain_item", "Explain a material"
        EXPLAIN_PAGE = "explain_page", "Explain a policy page"

    class Outcome(models.TextChoices):
        OK = "ok", "Answered"
        REFUSED_CONSENT = "refused_consent", "Refused: no consent"
        REFUSED_LIMIT = "refused_limit", "Refused: out of units"
        ENDPOINT_ERROR = "endpoint_error", "Endpoint error"
        TIMEOUT = "timeout", "Timed out"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ai_requests",
        help_text="Who asked.",
    )
    course = models.ForeignKey(
        "courses.Course",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ai_requests",
    )
    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ai_requests_counted",
        help_text="The teacher whose monthly units the request counts against.",
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    context_item_ids = models.JSONField(
        default=list, blank=True, help_text="Ids of the course items given as context."
    )
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    units = models.PositiveIntegerField(default=0, help_text="1 unit per 1,000 tokens.")
    model = models.CharField(max_length=200, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=now, db_index=True, editable=False)

    class Meta:
        verbose_name = "AI request"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} ({self.get_outcome_display()})"


class AiUsageMonth(models.Model):
    """The AI units counted against a teacher in one calendar month (UTC)."""

    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ai_usage_months"
    )
    month = models.DateField(help_text="The first day of the month.")
    units = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "AI usage month"
        constraints = [
            models.UniqueConstraint(fields=["teacher", "month"], name="ai_usage_one_row_a_month")
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}: {self.units} units"


class AiConsent(models.Model):
    """A person's answer to "may Lectern send what you ask or write to the AI endpoint?".

    `endpoint_host` is the host named to them when they agreed: consent is to
    that recipient, so a server moved to another endpoint asks again.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ai_consent"
    )
    given = models.BooleanField(default=False)
    given_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    endpoint_host = models.CharField(
        max_length=255, blank=True, help_text="Where AI requests went when consent was given."
    )

    class Meta:
        verbose_name = "AI consent"

    def __str__(self) -> str:
        return f"{'Given' if self.given else 'Not given'} ({self.endpoint_host or 'no endpoint'})"


class PolicySummary(models.Model):
    """A plain-language summary of one version of a policy page, written once by AI.

    A version is the sha256 of the page's text as everyone sees it, so a
    changed page gets a new summary and an old one is never shown for it. The
    summary is made from the page's text alone: it holds nobody's data.
    """

    class Page(models.TextChoices):
        PRIVACY = "privacy", "Privacy Policy"
        TERMS = "terms", "Terms of Service"
        COOKIES = "cookies", "Cookies"
        SUBPROCESSORS = "subprocessors", "Subprocessors"

    page = models.CharField(max_length=20, choices=Page.choices)
    sha256 = models.CharField(max_length=64, help_text="The version of the page summarised.")
    text = models.TextField(help_text="The summary, in Markdown.")
    model = models.CharField(max_length=200, blank=True, help_text="The model that wrote it.")
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        verbose_name = "policy summary"
        verbose_name_plural = "policy summaries"
        ordering = ["page", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["page", "sha256"], name="ai_policy_summary_per_version")
        ]

    def __str__(self) -> str:
        return f"{self.get_page_display()} ({self.sha256[:12]})"

    @property
    def version(self) -> str:
        return self.sha256[:12]
