"""Gross merchandise volume: sales totals per teacher and month, folded into years at 24 months.

Amounts are integer minor units per currency (a teacher selling in two
currencies has a row for each). The month rows are kept in step with
purchases and refunds as they are processed, and can be rebuilt from the
purchases themselves with the same result.
"""

from django.conf import settings
from django.db import models
from django.utils.timezone import now


class GmvMonth(models.Model):
    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="gmv_months"
    )
    month = models.DateField(help_text="The month's first day.")
    currency = models.CharField(max_length=3)
    gross = models.PositiveBigIntegerField(default=0)
    refunds = models.PositiveBigIntegerField(default=0)
    fees = models.PositiveBigIntegerField(default=0)
    sales = models.PositiveIntegerField(default=0)
    course_count = models.PositiveIntegerField(default=0)
    student_count = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = "GMV month"
        ordering = ["-month"]
        constraints = [
            models.UniqueConstraint(fields=["teacher", "month", "currency"], name="gmv_month_once")
        ]
        indexes = [models.Index(fields=["month"])]

    def __str__(self) -> str:
        return f"{self.teacher_id} {self.month:%Y-%m} {self.currency}"


class GmvYear(models.Model):
    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="gmv_years"
    )
    year = models.PositiveSmallIntegerField()
    currency = models.CharField(max_length=3)
    gross = models.PositiveBigIntegerField(default=0)
    refunds = models.PositiveBigIntegerField(default=0)
    fees = models.PositiveBigIntegerField(default=0)
    sales = models.PositiveIntegerField(default=0)
    course_count = models.PositiveIntegerField(default=0)
    student_count = models.PositiveIntegerField(default=0)
    months = models.PositiveSmallIntegerField(
        default=0, help_text="How many months were folded in."
    )
    updated_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = "GMV year"
        ordering = ["-year"]
        constraints = [
            models.UniqueConstraint(fields=["teacher", "year", "currency"], name="gmv_year_once")
        ]

    def __str__(self) -> str:
        return f"{self.teacher_id} {self.year} {self.currency}"
