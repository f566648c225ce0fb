"""What storefront analytics holds about people, and the two cookies it sets.

The daily counts hold no person's data. The uniqueness lookup holds keyed
hashes that change every day and is deleted after 30 days. Where a person
came from (their first visit's referring site, first page and campaign) is
kept with their account.
"""

from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from analytics import visits
from analytics.models import Attribution, CourseDay, VisitorDay
from privacy import cookies
from privacy.registry import Basis, Retention, exempt, register, rule

LOOKUP_KEEP = timedelta(days=30)


def _old_lookups() -> QuerySet:
    return VisitorDay.objects.filter(day__lt=timezone.now().date() - LOOKUP_KEEP)


register(
    Attribution,
    category="Where you came from",
    purpose="The site that linked you to Lectern, the first page you saw and the campaign "
    "(utm_*) of that visit, recorded when you signed up, so a teacher knows which of their "
    "links brought you",
    owner="user",
    dated_by="created_at",
    fields=[
        "referrer_domain",
        "landing_path",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
        "first_seen",
        "created_at",
    ],
    basis=Basis.LEGITIMATE_INTERESTS,
    retention=Retention("While your account exists"),
)
exempt(
    CourseDay,
    reason="Daily counts of visits, clicks, registrations, enrolments and purchases per course "
    "page and source: no visitor can be told apart, and the rows go with the teacher's course.",
)
exempt(
    VisitorDay,
    reason="Keyed hashes that change every day, for counting unique visitors; swept by its own "
    "rule after 30 days.",
)
rule(
    "Storefront visitor lookups",
    description="A keyed hash of a visitor cookie's random id, per page and day, so each "
    "visitor is counted once a day; the key changes daily, so days cannot be linked",
    retention=Retention("30 days", period=LOOKUP_KEEP, expired=_old_lookups),
)

cookies.declare(
    cookies.Cookie(
        name=visits.ATTRIB_COOKIE,
        purpose="Set on course and teacher pages to count visits without any outside service: "
        "a random id (so a visitor is counted once a day), the site that linked you here, the "
        "first page you saw and when. Not set when your browser sends Global Privacy Control "
        "or Do Not Track.",
        lifetime=f"{visits.ATTRIB_DAYS} days",
        essential=False,
    )
)
cookies.declare(
    cookies.Cookie(
        name=visits.UTM_COOKIE,
        purpose="Set when you open a course or teacher page from a campaign link: the link's "
        "utm_source, utm_medium, utm_campaign, utm_term and utm_content, so the teacher "
        "knows which link brought you. Not set when your browser sends Global Privacy Control "
        "or Do Not Track.",
        lifetime=f"{visits.UTM_DAYS} days",
        essential=False,
    )
)
