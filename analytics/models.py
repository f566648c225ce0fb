"""Storefront traffic: daily counts per course, the day's uniqueness lookup, first touches.

`CourseDay` holds counts only: how many views, visitors, clicks, registrations,
enrolments and purchases a course's page (or a teacher's page, with no
course) had on a day, by campaign source and referring site. Nothing in it
tells one visitor from another.

`VisitorDay` is the raw lookup that makes "visitors" unique: a keyed hash of
the visitor cookie's random id, the day and the page. The key changes every
day, so the same visitor cannot be followed from one day to the next; the
retention sweep deletes the rows after 30 days.

`Attribution` is where a person who signed up came from (their first visit),
kept with their account.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class CourseDay(models.Model):
    """One day's counts for a course page (or a teacher's page) from one source."""

    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="The teacher whose page was visited.",
    )
    course = models.ForeignKey(
        "courses.Course",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for visits to the teacher's own page.",
    )
    day = models.DateField()
    utm_source = models.CharField(max_length=100, blank=True)
    referrer_domain = models.CharField(max_length=253, blank=True)
    views = models.PositiveIntegerField(default=0)
    visitors = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    registrations = models.PositiveIntegerField(default=0)
    enrolments = models.PositiveIntegerField(default=0)
    purchases = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["course", "day", "utm_source", "referrer_domain"],
                condition=Q(course__isnull=False),
                name="analytics_courseday_one_per_course_source",
            ),
            models.UniqueConstraint(
                fields=["teacher", "day", "utm_source", "referrer_domain"],
                condition=Q(course__isnull=True),
                name="analytics_courseday_one_per_teacher_page_source",
            ),
        ]
        indexes = [models.Index(fields=["teacher", "day"], name="analytics_cd_teacher_day")]

    def __str__(self) -> str:
        return f"{self.course_id or 'teacher page'} on {self.day}: {self.views} views"


class VisitorDay(models.Model):
    """A visitor seen on a page on a day, as a keyed hash nobody can turn back into the cookie."""

    day = models.DateField()
    digest = models.CharField(max_length=32)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "digest"], name="analytics_visitorday_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.digest}"


class Attribution(models.Model):
    """Where a person came from on their first visit, recorded when they signed up."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attribution"
    )
    referrer_domain = models.CharField(
        "referring site", max_length=253, blank=True, help_text="The site that linked to Lectern."
    )
    landing_path = models.CharField(
        "first page", max_length=200, blank=True, help_text="The first page of Lectern you saw."
    )
    utm_source = models.CharField("campaign source", max_length=100, blank=True)
    utm_medium = models.CharField("campaign medium", max_length=100, blank=True)
    utm_campaign = models.CharField("campaign name", max_length=100, blank=True)
    utm_term = models.CharField("campaign term", max_length=100, blank=True)
    utm_content = models.CharField("campaign content", max_length=100, blank=True)
    first_seen = models.DateTimeField("first visit", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.utm_source or self.referrer_domain or 'direct'}"
