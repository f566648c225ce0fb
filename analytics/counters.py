"""Counting storefront traffic off the request's database path.

A request adds to counters in the process's memory, never to a table. With
Redis (the shared cache) each process adds them to the shared counters at
most once a second, in one pipelined round trip (HINCRBY per counter, SADD
for the day's visitor hashes), and at exit; in the embedded default they stay
in the process until it flushes them. The flush job
(`analytics.services.flush_counters`) moves them into `CourseDay` rows.

Each counter is named by `day|kind|page|utm_source|referrer_domain`, where
`page` is `c/<course slug>`, `t/<teacher handle>` or `#<course id>` (for
enrolments and purchases, which know the course rather than the page). The
names are resolved to courses and teachers at flush time, in bulk.

To flush, the counters are first renamed (RENAMENX) to a "flushing" name, so
views counted meanwhile go to a fresh set; a flush that fails leaves them
there and the next one picks them up first.
"""

import atexit
import functools
import hashlib
import hmac
import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.utils import timezone
from django.utils.crypto import salted_hmac

from core import cache as shared_cache

log = logging.getLogger(__name__)

VIEW, CLICK, REGISTRATION, ENROLMENT, PURCHASE = "v", "c", "r", "e", "p"
KINDS = {
    VIEW: "views",
    CLICK: "clicks",
    REGISTRATION: "registrations",
    ENROLMENT: "enrolments",
    PURCHASE: "purchases",
}
SEP = "|"
_COUNTS = "analytics:counts"
_VISITORS = "analytics:visitors"
_FLUSHING = ":flushing"

# With Redis, a process adds its counts to the shared ones at most this often (or once it
# holds this many counters), and a timer pushes what is left a second after the last view: a
# view costs a dict update, not a round trip. A process that dies without exiting loses at
# most that second.
PUSH_SECONDS = 1.0
PUSH_COUNTERS = 500

_lock = threading.Lock()
_last_push = [0.0]
_counts: Counter[str] = Counter()
_visitors: set[str] = set()
_timer: list[threading.Timer | None] = [None]


@dataclass(frozen=True)
class Hit:
    """One thing to count."""

    kind: str
    page: str
    utm_source: str = ""
    referrer_domain: str = ""
    visitor_id: str = ""  # views only, and only for visitors who carry the cookie


@functools.lru_cache(maxsize=4)
def _day_key(day: date, secret: str) -> bytes:
    """Return the key of the day's visitor hashes: derived from SECRET_KEY and the day."""
    return salted_hmac(
        "analytics.visitor-day", day.isoformat(), secret=secret, algorithm="sha256"
    ).digest()


def visitor_digest(visitor_id: str, page: str, day: date) -> str:
    """Return the day's hash of a visitor on a page: the same all day, unrelated the next."""
    message = f"{visitor_id}{SEP}{page}".encode()
    return hmac.new(_day_key(day, settings.SECRET_KEY), message, hashlib.sha256).hexdigest()[:32]


def _field(day: date, hit: Hit) -> str:
    return SEP.join([day.isoformat(), hit.kind, hit.page, hit.utm_source, hit.referrer_domain])


def record(hit: Hit) -> None:
    """Count `hit` for today, in this process; with Redis, pass the counts on when due."""
    day = timezone.now().date()
    name = _field(day, hit)
    member = ""
    if hit.visitor_id:
        digest = visitor_digest(hit.visitor_id, hit.page, day)
        member = SEP.join([day.isoformat(), hit.page, hit.utm_source, hit.referrer_domain, digest])
    with _lock:
        _counts[name] += 1
        if member:
            _visitors.add(member)
    if shared_cache.is_shared():
        if _push_due():
            push_to_redis()
        else:
            _push_soon()


def _push_soon() -> None:
    """Make sure what is held now reaches Redis within a second, even if no other view comes.

    Without it, the last views before a quiet spell would wait in this process
    for its next view, which on a small site can be hours away.
    """
    with _lock:
        pending = _timer[0]
        if pending is not None and pending.is_alive():
            return
        timer = threading.Timer(PUSH_SECONDS, push_to_redis)
        timer.daemon = True
        _timer[0] = timer
    timer.start()


def _push_due() -> bool:
    return time.monotonic() - _last_push[0] >= PUSH_SECONDS or len(_counts) >= PUSH_COUNTERS


def push_to_redis() -> None:
    """Add what this process counted to the shared counters, in one pipelined round trip."""
    _last_push[0] = time.monotonic()
    counts, visitors = take_local()
    if not counts and not visitors:
        return
    try:
        client, counts_key, visitors_key = _redis()
        with client.pipeline(transaction=False) as pipe:
            for name, n in counts.items():
                pipe.hincrby(counts_key, name, n)
            if visitors:
                pipe.sadd(visitors_key, *visitors)
            pipe.execute()
    except Exception:
        # Counting is best effort: an unreachable Redis must not break the page. Kept for later.
        log.warning("analytics.push_failed", exc_info=True)
        put_back_local(counts, visitors)


def _push_at_exit() -> None:
    if shared_cache.is_shared() and (_counts or _visitors):
        push_to_redis()


atexit.register(_push_at_exit)


def _redis() -> tuple[Any, str, str]:
    backend: Any = caches["default"]
    counts = backend.make_and_validate_key(_COUNTS)
    visitors = backend.make_and_validate_key(_VISITORS)
    return backend._cache.get_client(counts, write=True), counts, visitors


def local_pending() -> bool:
    """Say whether this process holds counts not flushed yet."""
    return bool(_counts)


def take_local() -> tuple[dict[str, int], set[str]]:
    """Take (and empty) what this process counted."""
    global _counts, _visitors
    with _lock:
        counts, visitors = _counts, _visitors
        _counts, _visitors = Counter(), set()
    return dict(counts), visitors


def put_back_local(counts: dict[str, int], visitors: set[str]) -> None:
    """Return counts a failed flush took, so the next flush has them."""
    with _lock:
        _counts.update(counts)
        _visitors.update(visitors)


class RedisBatch:
    """The counters a flush took from Redis: read them, then `done()` once they are stored."""

    def __init__(self) -> None:
        self.client, counts, visitors = _redis()
        self.counts_key, self.visitors_key = counts + _FLUSHING, visitors + _FLUSHING
        # Leftovers of a failed flush come first; otherwise claim what is counted now.
        if not self.client.exists(self.counts_key, self.visitors_key):
            for source, target in ((counts, self.counts_key), (visitors, self.visitors_key)):
                try:
                    self.client.renamenx(source, target)
                except Exception as error:  # no such key: nothing counted
                    if "no such key" not in str(error).lower():
                        raise

    def read(self) -> tuple[dict[str, int], set[str]]:
        with self.client.pipeline(transaction=False) as pipe:
            pipe.hgetall(self.counts_key)
            pipe.smembers(self.visitors_key)
            raw_counts, raw_visitors = pipe.execute()
        counts = {_text(k): int(v) for k, v in raw_counts.items()}
        return counts, {_text(m) for m in raw_visitors}

    def done(self) -> None:
        self.client.delete(self.counts_key, self.visitors_key)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def lock_flush(seconds: int = 300) -> bool:
    """Take the flush lock (one flush at a time across processes); False if another holds it."""
    return bool(caches["default"].add("analytics:flush-lock", 1, seconds))


def unlock_flush() -> None:
    caches["default"].delete("analytics:flush-lock")


def flush_interval() -> int:
    return int(getattr(settings, "ANALYTICS_LOCAL_FLUSH_SECONDS", 60))
