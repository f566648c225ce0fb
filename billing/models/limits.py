"""Fair limits: who counts as an active student, and where each teacher stands against the cap.

The ledger holds one row per (teacher, student) pair with a paid enrolment in
the last 30 days; the cap counts those rows. A teacher's cap state moves
NORMAL → WARNING (80% of the cap) → GRACE (over the cap, for a few days) →
HARD_BLOCK (still over once grace has run out), and back to NORMAL as soon as
they are under the cap again. A block stops new paid enrolments only; every
move is kept in `PlanCapTransition` with its reason.
"""

from django.conf import settings
from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _


class ActiveStudent(models.Model):
    """A (teacher, student) pair with a paid enrolment at `last_paid_at`."""

    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    last_paid_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["teacher", "student"], name="active_student_once")
        ]
        indexes = [
            models.Index(fields=["teacher", "last_paid_at"]),
            models.Index(fields=["last_paid_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.student_id} of {self.teacher_id}"


class CapState(models.TextChoices):
    NORMAL = "normal", _("Normal")
    WARNING = "warning", _("Near the limit")
    GRACE = "grace", _("Over the limit (grace period)")
    HARD_BLOCK = "hard_block", _("New paid enrolments paused")


class PlanCapState(models.Model):
    """Where a teacher stands against their plan's active-student cap, and since when."""

    State = CapState

    teacher = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="plan_cap"
    )
    state = models.CharField(max_length=10, choices=CapState.choices, default=CapState.NORMAL)
    # The figures of the last evaluation; `cap` empty means the plan has no limit.
    active_students = models.PositiveIntegerField(default=0)
    cap = models.PositiveIntegerField(null=True, blank=True)
    entered_at = models.DateTimeField(default=now)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    warning_emailed_at = models.DateTimeField(null=True, blank=True)
    grace_started_at = models.DateTimeField(null=True, blank=True)
    grace_ends_at = models.DateTimeField(null=True, blank=True)
    grace_reminder_sent_at = models.DateTimeField(null=True, blank=True)
    blocked_at = models.DateTimeField(null=True, blank=True)
    # A staff member's decision, which holds over the evaluated state until lifted.
    override_state = models.CharField(max_length=10, choices=CapState.choices, blank=True)
    override_note = models.TextField(blank=True)
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    overridden_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "grace_ends_at"])]

    def __str__(self) -> str:
        return f"{self.teacher_id}: {self.get_state_display()}"

    @property
    def effective_state(self) -> str:
        return self.override_state or self.state


class PlanCapTransition(models.Model):
    """One move of a teacher's cap state, with the figures and the reason behind it."""

    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="plan_cap_transitions"
    )
    from_state = models.CharField(max_length=10, choices=CapState.choices)
    to_state = models.CharField(max_length=10, choices=CapState.choices)
    reason = models.CharField(max_length=300)
    active_students = models.PositiveIntegerField(default=0)
    cap = models.PositiveIntegerField(null=True, blank=True)
    # A staff override's author and note; empty for the system's own evaluations.
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.TextField(blank=True)
    at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["teacher", "-at"])]

    def __str__(self) -> str:
        return f"{self.from_state} → {self.to_state}"
