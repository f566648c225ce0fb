import logging
import sys

from celery import current_app
from django.conf import settings
from django.core.cache import cache, caches
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from core import ratelimit
from core.cache import UNREACHABLE, RedisCache

logger = logging.getLogger(__name__)


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_cache() -> None:
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        # The cache answers an outage as a miss; ask Redis itself.
        backend.ping()
        return
    cache.set("healthz", "ok", timeout=5)
    if cache.get("healthz") != "ok":
        raise RuntimeError("cache did not return what was written")


def _check_broker() -> None:
    with current_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Report whether the database, the cache and (when configured) the broker answer.

    `failing` names the checks that failed and `down` the services behind
    them ("postgresql", "redis"), e.g. `{"failing": ["cache", "broker"],
    "down": ["redis"]}` while Redis is away.
    """
    checks = {"database": _check_database, "cache": _check_cache}
    services = {"database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]}
    services["cache"] = "redis" if isinstance(caches["default"], RedisCache) else "memory"
    if settings.REDIS_URL:
        checks["broker"] = _check_broker
        services["broker"] = "redis"
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:
            logger.warning("health check failed", extra={"part": name, "error": str(exc)})
            results[name] = "failing"
    failing = [name for name, state in results.items() if state != "ok"]
    down = sorted({services[name] for name in failing})
    return JsonResponse(
        {
            "status": "failing" if failing else "ok",
            "checks": results,
            "failing": failing,
            "down": down,
        },
        status=503 if failing else 200,
    )


def too_many_requests(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Answer allauth's rate-limit refusals with our page and a retry time."""
    return ratelimit.too_many_requests(request, ratelimit.retry_after_for_path(request))


@never_cache
@require_safe
def csrf_token(request: HttpRequest) -> JsonResponse:
    """Give this browser its CSRF token, for forms on pages every visitor shares.

    Such pages are cached whole, so they can't hold a token; their forms fetch
    one here just before they are sent. Other sites can't read the answer.
    """
    return JsonResponse({"token": get_token(request)})


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "403_csrf.html", status=403)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "400.html", status=400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "404.html", status=404)


# Errors that mean a service is away, not that the code is wrong: the database dropped
# the connection or refused a new one, or Redis didn't answer a call that must not pass.
OUTAGES = (OperationalError, InterfaceError, *UNREACHABLE)
RETRY_AFTER_SECONDS = 10


def is_outage(error: BaseException | None) -> bool:
    """Say whether `error` comes from a service that is away rather than from a bug."""
    return isinstance(error, OUTAGES)


def service_unavailable() -> HttpResponse:
    """Render the 503 page: nothing was saved halfway, try again in a moment."""
    response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """Answer an uncaught error: 503 while a service is away, else the 500 page.

    Django calls this inside its handling of the error, so the error is at
    hand. Rendered without the request, so no context processor can reach a
    database that may be down. Django logs the answer with the error itself.
    """
    error = sys.exc_info()[1]
    if is_outage(error):
        logger.warning("service.unavailable", extra={"error": type(error).__name__})
        return service_unavailable()
    return HttpResponseServerError(loader.render_to_string("500.html"))
