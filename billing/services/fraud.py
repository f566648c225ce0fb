"""Fraud signals: the rules that raise them on a teacher account.

Each rule looks at what already happened and raises at most one OPEN signal
per rule and teacher (`raise_signal`, which leans on the model's partial
unique constraint, so two workers racing raise one). Staff review signals in
the admin (`billing.services.fraud_review`); once a signal is dismissed or
escalated, the rule may raise a new one when the pattern recurs. The
thresholds are settings (`FRAUD_*` in config/settings.py).

- High coupon use and refund or dispute rates are read from purchases by
  periodic jobs, a grouped query each; only the few teachers past the bar are
  looked at one by one.
- Card testing is counted from `CardFailure` rows written by the
  `charge.failed` and `payment_intent.payment_failed` webhooks, and checked
  as each one is recorded.
- Off-platform payment links are looked for (`billing.payment_links`) in
  course pages, course items and teachers' messages changed since the last
  scan, a periodic job every few minutes. The database returns only rows
  that hold a provider's name. Scans overlap a little, so a change committed
  late is still seen; a link staff have already reviewed (in a dismissed or
  escalated signal) is not raised again, and new links found while a signal
  is open are added to it.

Evidence holds ids, counts, rates and the links (with a little of the text
around them) found in the teacher's own content: never a name or an email
address, as signals outlive the teacher's account (`billing.privacy`).
"""

import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import BigIntegerField, Count, F, Max, Min, Q
from django.db.models.functions import Cast
from django.utils import timezone

from accounts.models import User
from billing import payment_links
from billing.models import CardFailure, ConnectAccount, FraudSignal, Purchase
from billing.services.common import purchase_id_in
from core import db
from courses.models import Course, CourseItem, ItemKind
from messaging.models import Message

log = logging.getLogger(__name__)

Rule = FraudSignal.Rule
Status = FraudSignal.Status

# Scans of content for payment links: where the last one started, how far each reaches back
# before that (a change saved just before a scan but committed after it), and how far the
# first one reaches (a new installation, or an emptied cache).
SCAN_KEY = "billing:fraud:link-scan-started"
SCAN_OVERLAP = timedelta(minutes=10)
SCAN_FIRST_REACH = timedelta(days=1)
# Links kept in one signal's evidence.
MAX_LINKS = 50


def raise_signal(*, teacher: User, rule: str, summary: str, evidence: dict[str, Any]) -> bool:
    """Open a signal on `teacher` for `rule` unless one is open already; return whether it is new.

    The insert relies on the one-open-signal-per-rule constraint rather than a
    check first, so two processes raising the same signal at once make one.
    """
    try:
        with transaction.atomic():
            FraudSignal.objects.create(
                teacher=teacher, rule=rule, summary=summary[:300], evidence=evidence
            )
    except IntegrityError:
        return False
    log.info("Fraud signal %s raised on teacher %s", rule, teacher.pk)
    return True


def _paid_sales(since: datetime) -> Any:
    return Purchase.objects.filter(
        created_at__gte=since, paid_at__isnull=False, teacher__isnull=False
    )


# --- High coupon use -------------------------------------------------------------------------


def check_coupon_rates() -> int:
    """Raise a signal on teachers whose recent paid enrolments mostly came with deep discounts.

    Return how many signals were raised. Only teachers with enough
    deep-discount sales to reach the share at all are looked at one by one.
    """
    since = timezone.now() - timedelta(days=settings.FRAUD_COUPON_WINDOW_DAYS)
    least = math.ceil(settings.FRAUD_COUPON_MIN_SALES * settings.FRAUD_COUPON_SHARE_PERCENT / 100)
    candidates = (
        _deep_discounts(_paid_sales(since))
        .values("teacher_id")
        .annotate(deep=Count("pk"))
        .filter(deep__gte=max(1, least))
        .values_list("teacher_id", flat=True)
    )
    teachers = User.objects.in_bulk(list(candidates))
    return sum(_check_coupon_rate(teacher, since) for teacher in teachers.values())


def _deep_discounts(purchases: Any) -> Any:
    # discount / gross >= percent / 100, in whole numbers wide enough for any currency's amounts.
    percent = settings.FRAUD_COUPON_DISCOUNT_PERCENT
    return purchases.alias(
        off=Cast("discount_amount", BigIntegerField()) * 100,
        bar=Cast("gross_amount", BigIntegerField()) * percent,
    ).filter(off__gte=F("bar"))


def _check_coupon_rate(teacher: User, since: datetime) -> bool:
    percent = settings.FRAUD_COUPON_DISCOUNT_PERCENT
    recent = list(
        _paid_sales(since)
        .filter(teacher=teacher)
        .order_by("-created_at")
        .values_list("pk", "discount_amount", "gross_amount", "coupon_id")[
            : settings.FRAUD_COUPON_RECENT_SALES
        ]
    )
    deep = [row for row in recent if row[1] * 100 >= row[2] * percent]
    if len(recent) < settings.FRAUD_COUPON_MIN_SALES:
        return False
    if len(deep) * 100 < len(recent) * settings.FRAUD_COUPON_SHARE_PERCENT:
        return False
    return raise_signal(
        teacher=teacher,
        rule=Rule.COUPON_RATE,
        summary=(
            f"{len(deep)} of the last {len(recent)} paid enrolments took "
            f"{percent}% or more off the price."
        ),
        evidence={
            "window_days": settings.FRAUD_COUPON_WINDOW_DAYS,
            "paid_enrolments": len(recent),
            "deep_discounts": len(deep),
            "share_percent": round(100 * len(deep) / len(recent)),
            "discount_at_least_percent": percent,
            "coupon_ids": sorted({row[3] for row in deep if row[3]}),
            "purchase_ids": [row[0] for row in deep],
        },
    )


# --- Refunds and disputes --------------------------------------------------------------------


def check_refund_rates() -> int:
    """Raise a signal on teachers whose recent sales were refunded or disputed unusually often.

    One grouped query finds them; return how many signals were raised.
    """
    days = settings.FRAUD_REFUND_WINDOW_DAYS
    since = timezone.now() - timedelta(days=days)
    refunded = Q(refunded_amount__gt=0)
    disputed = Q(disputed_at__isnull=False)
    rows = list(
        _paid_sales(since)
        .filter(amount__gt=0)
        .values("teacher_id")
        .annotate(
            sales=Count("pk"),
            refunded=Count("pk", filter=refunded),
            disputed=Count("pk", filter=disputed),
            bad_x100=Count("pk", filter=refunded | disputed) * 100,
        )
        .filter(
            sales__gte=settings.FRAUD_REFUND_MIN_SALES,
            bad_x100__gt=F("sales") * settings.FRAUD_REFUND_RATE_PERCENT,
        )
    )
    teachers = User.objects.in_bulk([row["teacher_id"] for row in rows])
    raised = 0
    for row in rows:
        rate = round(row["bad_x100"] / row["sales"])
        raised += raise_signal(
            teacher=teachers[row["teacher_id"]],
            rule=Rule.REFUND_RATE,
            summary=(
                f"{rate}% of {row['sales']} paid sales in {days} days were refunded or disputed."
            ),
            evidence={
                "window_days": days,
                "paid_sales": row["sales"],
                "refunded": row["refunded"],
                "disputed": row["disputed"],
                "rate_percent": rate,
            },
        )
    return raised


# --- Card testing ----------------------------------------------------------------------------


def record_card_failure(*, payment: dict[str, Any], event_id: str, at: datetime) -> bool:
    """Record a declined card on a teacher's course, from a failed charge or payment intent.

    Stripe sends both `charge.failed` and `payment_intent.payment_failed` for
    one decline: both name the charge, which is recorded once. Return whether
    this failure was new. Then check the teacher's last hour for card testing.
    """
    if payment.get("object") == "payment_intent":
        error = payment.get("last_payment_error") or {}
        charge = error.get("charge")
        stripe_id = (charge.get("id") if isinstance(charge, dict) else charge) or event_id
        decline = error.get("decline_code") or error.get("code") or ""
    else:
        stripe_id = payment.get("id") or event_id
        decline = (payment.get("outcome") or {}).get("reason") or payment.get("failure_code") or ""
    teacher_id, purchase_id = _seller_of(payment)
    if teacher_id is None:
        return False
    recorded = db.insert_unless_present(
        CardFailure,
        "stripe_id",
        {
            "teacher": teacher_id,
            "purchase": purchase_id,
            "stripe_id": stripe_id[:64],
            "decline_code": str(decline)[:60],
            "at": at,
        },
    )
    check_card_failures(teacher_id=teacher_id, at=at)
    return recorded


def _seller_of(payment: dict[str, Any]) -> tuple[int | None, int | None]:
    """The teacher a payment was for, and the purchase: from its metadata, else its destination."""
    purchase_id = purchase_id_in(payment)
    if purchase_id is not None:
        teacher_id = (
            Purchase.objects.filter(pk=purchase_id).values_list("teacher_id", flat=True).first()
        )
        if teacher_id is not None:
            return teacher_id, purchase_id
    transfer = payment.get("transfer_data") or {}
    account = transfer.get("destination") or payment.get("destination") or ""
    if isinstance(account, dict):
        account = account.get("id") or ""
    if not account:
        return None, None
    teacher_id = (
        ConnectAccount.objects.filter(stripe_account_id=account)
        .values_list("teacher_id", flat=True)
        .first()
    )
    return teacher_id, None


def check_card_failures(*, teacher_id: int, at: datetime) -> bool:
    """Raise a card-testing signal if the hour up to `at` saw too many declines on their courses."""
    failures = CardFailure.objects.filter(
        teacher_id=teacher_id, at__gt=at - timedelta(hours=1), at__lte=at
    )
    counted = failures.aggregate(
        count=Count("pk"),
        purchases=Count("purchase_id", distinct=True),
        first=Min("at"),
        last=Max("at"),
    )
    if counted["count"] < settings.FRAUD_CARD_FAILURES_PER_HOUR:
        return False
    codes = failures.values_list("decline_code").annotate(n=Count("pk")).order_by("decline_code")
    teacher = User.objects.filter(pk=teacher_id).first()
    if teacher is None:
        return False
    return raise_signal(
        teacher=teacher,
        rule=Rule.CARD_TESTING,
        summary=f"{counted['count']} declined card attempts on their courses within an hour.",
        evidence={
            "window_minutes": 60,
            "declined_attempts": counted["count"],
            "purchases": counted["purchases"],
            "decline_codes": {code or "unknown": n for code, n in codes},
            "first_at": counted["first"].isoformat(),
            "last_at": counted["last"].isoformat(),
        },
    )


# --- Off-platform payment links --------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """A payment link in a teacher's content, as it goes into a signal's evidence."""

    teacher_id: int
    entry: dict[str, Any]

    @property
    def key(self) -> str:
        return _entry_key(self.entry)


def _entry_key(entry: dict[str, Any]) -> str:
    where = entry.get("message_id") or entry.get("item_id") or entry.get("course_id")
    return f"{entry.get('in')}:{where}:{payment_links.normalise(entry.get('url', ''))}"


def scan_payment_links(*, since: datetime | None = None) -> int:
    """Look for off-platform payment links in content changed since the last scan.

    Course pages, course items (not a teacher's private notes) and messages
    written by teachers are read in batches, only the rows that mention a
    payment provider. Return how many signals were raised or given new links.
    """
    started = timezone.now()
    if since is None:
        last = cache.get(SCAN_KEY)
        since = (
            datetime.fromtimestamp(last, tz=UTC)
            if isinstance(last, int | float)
            else started - SCAN_FIRST_REACH
        ) - SCAN_OVERLAP
    findings = [*_in_courses(since), *_in_items(since), *_in_messages(since)]
    changed = _signal_links(findings)
    cache.set(SCAN_KEY, started.timestamp(), timeout=None)
    return changed


def _mentions(*fields: str) -> Q:
    """Rows where one of `fields` contains one of the providers' hints."""
    found = Q()
    for field in fields:
        for hint in payment_links.HINTS:
            found |= Q(**{f"{field}__icontains": hint})
    return found


def _links_in(teacher_id: int, texts: dict[str, str], where: dict[str, Any]) -> Iterator[Finding]:
    for field, text in texts.items():
        for link in payment_links.find(text):
            entry = {
                **where,
                "field": field,
                "provider": link.provider,
                "url": link.url,
                "snippet": payment_links.snippet(text, link),
            }
            yield Finding(teacher_id, entry)


def _in_courses(since: datetime) -> Iterator[Finding]:
    fields = ("title", "summary", "description")
    rows = (
        Course.objects.filter(_mentions(*fields), updated_at__gte=since)
        .values_list("pk", "teacher_id", *fields)
        .iterator(chunk_size=500)
    )
    for pk, teacher_id, *texts in rows:
        where = {"in": "course", "course_id": pk}
        yield from _links_in(teacher_id, dict(zip(fields, texts, strict=True)), where)


def _in_items(since: datetime) -> Iterator[Finding]:
    fields = ("title", "body", "url", "meeting_url")
    rows = (
        CourseItem.objects.filter(_mentions(*fields), updated_at__gte=since)
        .exclude(kind=ItemKind.NOTE, is_private=True)
        .values_list("pk", "course_id", "course__teacher_id", *fields)
        .iterator(chunk_size=500)
    )
    for pk, course_id, teacher_id, *texts in rows:
        where = {"in": "course item", "course_id": course_id, "item_id": pk}
        yield from _links_in(teacher_id, dict(zip(fields, texts, strict=True)), where)


def _in_messages(since: datetime) -> Iterator[Finding]:
    rows = (
        Message.objects.filter(
            Q(created_at__gte=since) | Q(edited_at__gte=since),
            _mentions("body"),
            author__is_teacher=True,
            deleted_at__isnull=True,
        )
        .values_list("pk", "conversation_id", "author_id", "body")
        .iterator(chunk_size=500)
    )
    for pk, conversation_id, author_id, body in rows:
        where = {"in": "message", "conversation_id": conversation_id, "message_id": pk}
        yield from _links_in(author_id, {"body": body}, where)


def _signal_links(findings: Iterable[Finding]) -> int:
    """Raise a signal per teacher for links staff haven't reviewed, or add them to the open one."""
    by_teacher: dict[int, dict[str, dict[str, Any]]] = defaultdict(dict)
    for finding in findings:
        by_teacher[finding.teacher_id].setdefault(finding.key, finding.entry)
    if not by_teacher:
        return 0
    reviewed: dict[int, set[str]] = defaultdict(set)
    earlier = (
        FraudSignal.objects.filter(rule=Rule.OFF_PLATFORM_LINK, teacher_id__in=by_teacher)
        .exclude(status=Status.OPEN)
        .values_list("teacher_id", "evidence")
    )
    for teacher_id, evidence in earlier:
        reviewed[teacher_id].update(_entry_key(entry) for entry in _links_of(evidence))
    teachers = User.objects.in_bulk(list(by_teacher))
    changed = 0
    for teacher_id, entries in by_teacher.items():
        fresh = [entry for key, entry in entries.items() if key not in reviewed[teacher_id]]
        teacher = teachers.get(teacher_id)
        if not fresh or teacher is None:
            continue
        fresh = fresh[:MAX_LINKS]
        raised = raise_signal(
            teacher=teacher,
            rule=Rule.OFF_PLATFORM_LINK,
            summary=_links_summary(fresh),
            evidence={"links": fresh},
        )
        changed += raised or _add_links(teacher, fresh)
    return changed


def _links_of(evidence: Any) -> list[dict[str, Any]]:
    links = evidence.get("links") if isinstance(evidence, dict) else None
    return [entry for entry in links or [] if isinstance(entry, dict)]


def _links_summary(entries: list[dict[str, Any]]) -> str:
    providers = ", ".join(dict.fromkeys(entry["provider"] for entry in entries))
    places = sorted({entry["in"] for entry in entries})
    count = len(entries)
    noun = "payment link" if count == 1 else "payment links"
    return f"{count} {noun} outside Lectern ({providers}) in: {', '.join(places)}."


@transaction.atomic
def _add_links(teacher: User, entries: list[dict[str, Any]]) -> bool:
    """Add links not yet in the teacher's open signal to its evidence; return whether any were."""
    signal = (
        FraudSignal.objects.select_for_update()
        .filter(teacher=teacher, rule=Rule.OFF_PLATFORM_LINK, status=Status.OPEN)
        .first()
    )
    if signal is None:
        # Reviewed between the two steps: its links were in front of staff; these come back
        # when the content changes again.
        return False
    links = _links_of(signal.evidence)
    known = {_entry_key(entry) for entry in links}
    new = [entry for entry in entries if _entry_key(entry) not in known]
    if not new:
        return False
    links = [*links, *new][:MAX_LINKS]
    signal.evidence = {**signal.evidence, "links": links}
    signal.summary = _links_summary(links)[:300]
    signal.save(update_fields=["evidence", "summary"])
    return True
