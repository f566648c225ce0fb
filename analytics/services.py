"""Writing analytics: a person's first touch, and the flush of counters into daily rows."""

import logging
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q

from accounts.models import User
from analytics import counters, visits
from analytics.models import Attribution, CourseDay, VisitorDay
from courses.models import Course

log = logging.getLogger(__name__)

_last_local_flush = time.monotonic()


def record_attribution(user: User, visit: visits.Visit) -> Attribution | None:
    """Keep where `user` came from, from the cookies of the request that made their account."""
    if not visit.tracked or not visit.known or Attribution.objects.filter(user=user).exists():
        return None
    touch, campaign = visit.first_touch, visit.campaign or visits.Campaign()
    try:
        with transaction.atomic():
            return Attribution.objects.create(
                user=user,
                referrer_domain=touch.referrer_domain if touch else visit.referrer,
                landing_path=touch.landing_path if touch else "",
                utm_source=campaign.source,
                utm_medium=campaign.medium,
                utm_campaign=campaign.campaign,
                utm_term=campaign.term,
                utm_content=campaign.content,
                first_seen=touch.first_seen if touch else None,
            )
    except IntegrityError:  # recorded meanwhile by another request
        return None


@dataclass(frozen=True)
class Flushed:
    counters: int
    rows: int


type RowKey = tuple[int, int | None, date, str, str]  # teacher, course, day, source, referrer


def flush_counters() -> Flushed:
    """Move the counts taken since the last flush into `CourseDay` (and `VisitorDay`) rows.

    One flush at a time (a cache lock). Counts from Redis are deleted only
    once their rows are committed; counts from this process's memory are
    put back if the write fails.
    """
    global _last_local_flush
    if not counters.lock_flush():
        return Flushed(0, 0)
    try:
        _last_local_flush = time.monotonic()
        counts, members = counters.take_local()
        try:
            result = _store(counts, members)
        except Exception:
            counters.put_back_local(counts, members)
            raise
        from core import cache as shared_cache

        if shared_cache.is_shared():
            batch = counters.RedisBatch()
            counts, members = batch.read()
            stored = _store(counts, members)
            batch.done()
            result = Flushed(result.counters + stored.counters, result.rows + stored.rows)
        return result
    finally:
        counters.unlock_flush()


def local_flush_due() -> bool:
    interval = counters.flush_interval()
    return (
        interval > 0
        and counters.local_pending()
        and time.monotonic() - _last_local_flush >= interval
    )


def _split(name: str) -> tuple[date, str, str, str, str] | None:
    parts = name.split(counters.SEP)
    if len(parts) != 5:
        return None
    try:
        day = date.fromisoformat(parts[0])
    except ValueError:
        return None
    return day, parts[1], parts[2], parts[3], parts[4]


def _resolve(pages: set[str]) -> dict[str, tuple[int, int | None]]:
    """Map each page name to (teacher id, course id or None), in two queries."""
    slugs = {p[2:] for p in pages if p.startswith("c/")}
    ids = {int(p[1:]) for p in pages if p.startswith("#") and p[1:].isdigit()}
    handles = {p[2:] for p in pages if p.startswith("t/")}
    found: dict[str, tuple[int, int | None]] = {}
    if slugs or ids:
        rows = Course.objects.filter(Q(slug__in=slugs) | Q(pk__in=ids)).values_list(
            "pk", "slug", "teacher_id"
        )
        for pk, slug, teacher_id in rows:
            found[f"c/{slug}"] = found[f"#{pk}"] = (teacher_id, pk)
    if handles:
        for pk, handle in User.objects.filter(handle__in=handles).values_list("pk", "handle"):
            found[f"t/{handle}"] = (pk, None)
    return found


@transaction.atomic
def _store(counts: dict[str, int], members: set[str]) -> Flushed:
    if not counts and not members:
        return Flushed(0, 0)
    parsed_counts = [(parts, n) for name, n in counts.items() if (parts := _split(name))]
    parsed_members: list[tuple[date, str, str, str, str]] = []
    for member in members:
        pieces = member.split(counters.SEP)
        if len(pieces) == 5:
            try:
                parsed_members.append((date.fromisoformat(pieces[0]), *pieces[1:]))  # type: ignore[arg-type]
            except ValueError:
                continue
    pages = {p[2] for p, _ in parsed_counts} | {m[1] for m in parsed_members}
    places = _resolve(pages)
    totals: defaultdict[RowKey, Counter[str]] = defaultdict(Counter)
    for (day, kind, page, source, referrer), n in parsed_counts:
        if page in places and kind in counters.KINDS:
            teacher_id, course_id = places[page]
            totals[(teacher_id, course_id, day, source, referrer)][counters.KINDS[kind]] += n
    for key, n in _new_visitors(parsed_members, places).items():
        totals[key]["visitors"] += n
    for key, figures in totals.items():
        _add(key, figures)
    return Flushed(len(counts) + len(members), len(totals))


def _new_visitors(
    members: list[tuple[Any, ...]], places: dict[str, tuple[int, int | None]]
) -> Counter[RowKey]:
    """Insert the day's hashes not seen before; count them by row."""
    first: dict[tuple[date, str], RowKey] = {}
    for day, page, source, referrer, digest in members:
        if page in places and (day, digest) not in first:
            teacher_id, course_id = places[page]
            first[(day, digest)] = (teacher_id, course_id, day, source, referrer)
    if not first:
        return Counter()
    days = {day for day, _ in first}
    known: set[tuple[date, str]] = set()
    digests = [digest for _, digest in first]
    for start in range(0, len(digests), 1000):
        known.update(
            VisitorDay.objects.filter(
                day__in=days, digest__in=digests[start : start + 1000]
            ).values_list("day", "digest")
        )
    new = [pair for pair in first if pair not in known]
    VisitorDay.objects.bulk_create(
        [VisitorDay(day=day, digest=digest) for day, digest in new],
        batch_size=1000,
        ignore_conflicts=True,
    )
    return Counter(first[pair] for pair in new)


def _add(key: RowKey, figures: Counter[str]) -> None:
    teacher_id, course_id, day, source, referrer = key
    where: dict[str, Any] = {"day": day, "utm_source": source, "referrer_domain": referrer}
    if course_id is None:
        where.update(teacher_id=teacher_id, course__isnull=True)
    else:
        where["course_id"] = course_id
    increments = {name: F(name) + n for name, n in figures.items()}
    if CourseDay.objects.filter(**where).update(**increments):
        return
    try:
        with transaction.atomic():
            CourseDay.objects.create(
                teacher_id=teacher_id, course_id=course_id, day=day, utm_source=source,
                referrer_domain=referrer, **dict(figures),
            )  # fmt: skip
    except IntegrityError:  # created meanwhile: add to it
        CourseDay.objects.filter(**where).update(**increments)
