import logging

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from core import ratelimit

logger = logging.getLogger(__name__)


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_cache() -> None:
    cache.set("healthz", "ok", timeout=5)
    if cache.get("healthz") != "ok":
        raise RuntimeError("cache did not return what was written")


def _check_broker() -> None:
    with current_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Report whether the database, the cache and (when configured) the broker answer."""
    checks = {"database": _check_database, "cache": _check_cache}
    if settings.REDIS_URL:
        checks["broker"] = _check_broker
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:
            logger.warning("health check failed", extra={"part": name, "error": str(exc)})
            results[name] = "failing"
    failing = [name for name, state in results.items() if state != "ok"]
    return JsonResponse(
        {"status": "failing" if failing else "ok", "checks": results, "failing": failing},
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


def server_error(request: HttpRequest) -> HttpResponse:
    # Rendered without the request, so no context processor can reach a database that may be down.
    return HttpResponseServerError(loader.render_to_string("500.html"))
