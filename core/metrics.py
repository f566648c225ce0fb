"""Prometheus metrics at `/metrics`: requests, latency, Celery tasks and queues.

Off unless METRICS_TOKEN is set; then only a scraper sending
`Authorization: Bearer <token>` sees the page, everyone else gets a 404.

Where the numbers live, and why:

- Requests and latency are counted in the process that answered, with no I/O
  on the request's path. Under gunicorn, `config/gunicorn.py` sets
  PROMETHEUS_MULTIPROC_DIR before the app loads: each worker then writes its
  counts to small memory-mapped files there, and whichever worker answers a
  scrape adds up every worker's files. Without it (runserver), the counts
  are the one process's own.
- Task outcomes are counted by Celery signals in the worker, which usually
  runs in another container: with Redis they go to one hash there (one
  HINCRBY per finished task; task rates are low), read at scrape time.
  Without Redis tasks run inline in the web process and are counted there;
  an inline task that fails raises into its caller before Celery's failure
  and retry signals, so there it shows as a 5xx or an error in the log.
- Queue lengths and anything else that is a count of rows (other apps add
  theirs in a `metrics.py` module, through `register_source`) are read when
  the page is scraped, never kept.
- gunicorn's master folds the files of a worker that exits into one archive
  file (`archive_worker`), so replaced workers neither lose their counts nor
  pile up files.

Route labels are URL pattern names (bounded by the URL configuration), never
raw paths: a crawler trying random addresses adds no new series.
"""

import fcntl
import hmac
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from celery import signals as celery_signals
from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import MiddlewareNotUsed
from django.db import connections
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.module_loading import autodiscover_modules
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.mmap_dict import MmapedDict

log = logging.getLogger(__name__)

# Seconds. The capacity target is a p95 under 300 ms, so there is a bucket edge there.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0)
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# The Celery queues the workers take (docker-compose.yml).
QUEUES = ("celery", "ai")
# kombu's Redis transport keeps a list per priority step: the queue's own name, then these.
_PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")
_TASKS_KEY = "metrics:celery-tasks"
# How often each web process reads its database pool and memory (seconds).
SAMPLE_SECONDS = 15.0

REQUESTS = Counter(
    "lectern_http_requests",
    "HTTP requests answered, by method, URL pattern name and status class.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "lectern_http_request_duration_seconds",
    "Time from a request entering Django to its response leaving, by URL pattern name.",
    ["route"],
    buckets=LATENCY_BUCKETS,
)
TASKS = Counter(
    "lectern_celery_tasks",
    "Celery tasks finished, by task name and outcome (succeeded, failed, retried).",
    ["task", "outcome"],
)
POOL_CONNECTIONS = Gauge(
    "lectern_db_pool_connections",
    "Database connections held by the web processes' pools: open, idle, or the pools' maximum.",
    ["state"],
    multiprocess_mode="livesum",
)
POOL_WAITS = Counter(
    "lectern_db_pool_waits", "Requests for a database connection that had to wait for one."
)
POOL_WAIT_SECONDS = Counter(
    "lectern_db_pool_wait_seconds", "Time spent waiting for a database connection from the pool."
)
POOL_ERRORS = Counter(
    "lectern_db_pool_errors",
    "Pool failures: a connection not obtained in time, or lost or refused by the server.",
    ["kind"],
)
WEB_WORKERS = Gauge(
    "lectern_web_workers", "Web worker processes alive.", multiprocess_mode="livesum"
)
WEB_MEMORY = Gauge(
    "lectern_web_resident_memory_bytes",
    "Resident memory of all web worker processes together.",
    multiprocess_mode="livesum",
)

MetricSource = Callable[[], Iterable[Metric]]
_sources: list[MetricSource] = []
_discovered = [False]


def register_source(source: MetricSource) -> MetricSource:
    """Add a function that returns metric families read at scrape time (usable as a decorator).

    Apps put theirs in a `metrics.py` module, found like `admin.py` on the first scrape.
    """
    if source not in _sources:
        _sources.append(source)
    return source


def is_multiprocess() -> bool:
    """Say whether this process writes its counts to files shared with its sibling workers."""
    return values.ValueClass is not values.MutexValue


# --- Requests ---------------------------------------------------------------------------------


class RequestMetricsMiddleware:
    """Count each request and time it; the first in MIDDLEWARE, so the time covers the rest.

    Not loaded at all while metrics are off. On the way out it does two dict lookups and
    two in-memory (or memory-mapped) increments: no I/O, no Redis.
    """

    def __init__(
        self, get_response: Callable[[HttpRequest], HttpResponse], route: str | None = None
    ) -> None:
        if not settings.METRICS_TOKEN:
            raise MiddlewareNotUsed
        self.get_response = get_response
        self.route = route  # for views reached without URL resolution (config.handlers)
        self.static_prefix = settings.STATIC_URL or "/static/"
        self.counters: dict[tuple[str | None, str, int], Any] = {}
        self.timers: dict[str, Any] = {}
        self.next_sample = 0.0

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        match = request.resolver_match
        if match is not None:
            route = match.view_name
        elif self.route:
            route = self.route
        elif request.path.startswith(self.static_prefix):
            route = "static"
        else:
            route = "unmatched"  # a 404 before any view, or a redirect such as APPEND_SLASH
        method = request.method if request.method in KNOWN_METHODS else "OTHER"
        status_class = response.status_code // 100
        key = (method, route, status_class)
        counter = self.counters.get(key)
        if counter is None:
            counter = self.counters[key] = REQUESTS.labels(method, route, f"{status_class}xx")
        counter.inc()
        timer = self.timers.get(route)
        if timer is None:
            timer = self.timers[route] = LATENCY.labels(route)
        timer.observe(elapsed)
        if started >= self.next_sample:
            self.next_sample = started + SAMPLE_SECONDS
            try:
                sample_process()
            except Exception:  # a gauge left stale must never fail the request it follows
                log.warning("metrics.sample_failed", exc_info=True)
        return response


def counted(view: Callable[[HttpRequest], HttpResponse], route: str) -> Any:
    """Return `view` counted and timed under `route`, or `view` itself while metrics are off."""
    try:
        return RequestMetricsMiddleware(view, route=route)
    except MiddlewareNotUsed:
        return view


def sample_process() -> None:
    """Record this process's database pool and memory; called now and then, never per request."""
    WEB_WORKERS.set(1)
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        WEB_MEMORY.set(pages * 4096)
    except (OSError, IndexError, ValueError):
        pass  # not Linux: memory is not reported
    connection: Any = connections["default"]
    if connection.vendor != "postgresql" or not connection.settings_dict["OPTIONS"].get("pool"):
        return
    stats = connection.pool.pop_stats()
    POOL_CONNECTIONS.labels("open").set(stats.get("pool_size", 0))
    POOL_CONNECTIONS.labels("idle").set(stats.get("pool_available", 0))
    POOL_CONNECTIONS.labels("max").set(stats.get("pool_max", 0))
    POOL_WAITS.inc(stats.get("requests_queued", 0))
    POOL_WAIT_SECONDS.inc(stats.get("requests_wait_ms", 0) / 1000)
    POOL_ERRORS.labels("timeout").inc(stats.get("requests_errors", 0))
    POOL_ERRORS.labels("lost").inc(stats.get("connections_lost", 0))
    POOL_ERRORS.labels("refused").inc(stats.get("connections_errors", 0))


# --- Celery tasks -----------------------------------------------------------------------------


def count_task(task_name: str, outcome: str) -> None:
    """Count one finished task where the web process can read it; never fail the task."""
    if not settings.METRICS_TOKEN:
        return
    if not settings.REDIS_URL:
        TASKS.labels(task_name, outcome).inc()
        return
    try:
        client, key = _redis(_TASKS_KEY)
        client.hincrby(key, f"{task_name}|{outcome}", 1)
    except Exception:
        log.warning("metrics.task_count_failed", extra={"task": task_name}, exc_info=True)


def _on_success(sender: Any = None, **kwargs: Any) -> None:
    count_task(getattr(sender, "name", "unknown"), "succeeded")


def _on_failure(sender: Any = None, **kwargs: Any) -> None:
    count_task(getattr(sender, "name", "unknown"), "failed")


def _on_retry(sender: Any = None, **kwargs: Any) -> None:
    count_task(getattr(sender, "name", "unknown"), "retried")


def connect_task_signals() -> None:
    """Listen to Celery's task outcomes, in web and worker processes alike."""
    celery_signals.task_success.connect(_on_success, weak=False, dispatch_uid="metrics.success")
    celery_signals.task_failure.connect(_on_failure, weak=False, dispatch_uid="metrics.failure")
    celery_signals.task_retry.connect(_on_retry, weak=False, dispatch_uid="metrics.retry")


def _redis(name: str) -> tuple[Any, str]:
    """Return the shared Redis client (the cache's; the broker uses the same database) and a key."""
    backend: Any = caches["default"]
    key = backend.make_and_validate_key(name)
    return backend._cache.get_client(key, write=True), key


# --- Reading at scrape time -------------------------------------------------------------------


def redis_metrics() -> Iterator[Metric]:
    """Task counts and queue lengths, from Redis in one round trip."""
    if not settings.REDIS_URL:
        return
    up = GaugeMetricFamily("lectern_redis_up", "Whether the scrape could read Redis (1) or not.")
    try:
        client, key = _redis(_TASKS_KEY)
        with client.pipeline(transaction=False) as pipe:
            pipe.hgetall(key)
            for queue in QUEUES:
                for suffix in _PRIORITY_SUFFIXES:
                    pipe.llen(queue + suffix)
            pipe.hlen("unacked")
            replies = pipe.execute()
    except Exception:
        log.warning("metrics.redis_failed", exc_info=True)
        up.add_metric([], 0)
        yield up
        return
    up.add_metric([], 1)
    yield up
    tasks = CounterMetricFamily(
        "lectern_celery_tasks",
        "Celery tasks finished, by task name and outcome (succeeded, failed, retried).",
        labels=["task", "outcome"],
    )
    for field, count in sorted(replies[0].items()):
        task_name, _, outcome = _text(field).rpartition("|")
        tasks.add_metric([task_name, outcome], int(count))
    yield tasks
    lengths = GaugeMetricFamily(
        "lectern_celery_queue_length", "Messages waiting in a Celery queue.", labels=["queue"]
    )
    steps = len(_PRIORITY_SUFFIXES)
    for index, queue in enumerate(QUEUES):
        lengths.add_metric([queue], sum(replies[1 + index * steps : 1 + (index + 1) * steps]))
    yield lengths
    yield GaugeMetricFamily(
        "lectern_celery_unacked_messages",
        "Messages a worker has taken and not finished yet (redelivered if it dies).",
        value=replies[-1],
    )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class ScrapeTimeCollector:
    """Collect what is read when the page is scraped: Redis, then every registered source."""

    def collect(self) -> Iterator[Metric]:
        yield from redis_metrics()
        for source in _sources:
            try:
                yield from source()
            except Exception:
                log.warning(
                    "metrics.source_failed", extra={"source": source.__name__}, exc_info=True
                )


class _NonEmpty:
    """This process's own registry, minus families with no samples (they would repeat a name)."""

    def collect(self) -> Iterator[Metric]:
        return (family for family in REGISTRY.collect() if family.samples)


def render() -> bytes:
    """Return the text exposition of every metric, added up across worker processes."""
    if not _discovered[0]:
        autodiscover_modules("metrics")
        _discovered[0] = True
    registry = CollectorRegistry()
    registry.register(ScrapeTimeCollector())
    if not is_multiprocess():
        registry.register(_NonEmpty())
        return generate_latest(registry)
    multiprocess.MultiProcessCollector(registry)
    with _files_lock(Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]), fcntl.LOCK_SH):
        return generate_latest(registry)


# --- Workers that exit --------------------------------------------------------------------------
# gunicorn replaces each worker after some thousands of requests. Left alone, every worker that
# ever ran would keep its files: /dev/shm (64 MB in a container) would fill up within days and
# each scrape would read them all. So the master folds a finished worker's counts into one
# archive file per kind, holding the folder's lock so no scrape sees them twice or not at all.


@contextmanager
def _files_lock(folder: Path, mode: int) -> Iterator[None]:
    with (folder / "files.lock").open("a") as lock:
        fcntl.flock(lock, mode)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def archive_worker(pid: int, folder: str) -> None:
    """Fold a finished worker's counts into the archive and drop its files (gunicorn's master)."""
    multiprocess.mark_process_dead(pid, folder)  # its live gauges simply go
    with _files_lock(Path(folder), fcntl.LOCK_EX):
        for kind in ("counter", "histogram"):
            finished = Path(folder) / f"{kind}_{pid}.db"
            if not finished.exists():
                continue
            archive = MmapedDict(str(Path(folder) / f"{kind}_archive.db"))
            try:
                kept = {key: value for key, value, _ in archive.read_all_values()}
                for key, value, stamp, _ in MmapedDict.read_all_values_from_file(str(finished)):
                    archive.write_value(key, kept.get(key, 0.0) + value, stamp)
            finally:
                archive.close()
            finished.unlink()


def token_matches(request: HttpRequest) -> bool:
    """Compare the request's bearer token with METRICS_TOKEN in constant time."""
    expected = f"Bearer {settings.METRICS_TOKEN}".encode()
    supplied = request.headers.get("Authorization", "").encode("utf-8", "surrogateescape")
    return hmac.compare_digest(supplied, expected)


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Serve the metrics to a scraper holding the token; to anyone else the page doesn't exist."""
    if not settings.METRICS_TOKEN or not token_matches(request):
        raise Http404
    return _serve(request)


@require_safe
def _serve(request: HttpRequest) -> HttpResponse:
    return HttpResponse(render(), content_type=CONTENT_TYPE_LATEST)
