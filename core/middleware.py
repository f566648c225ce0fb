"""Request-wide middleware that belongs to no app."""

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from core.logging import request_id_var

logger = logging.getLogger("lectern.request")

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Tag the request, its log lines and its response with one request id.

    An `X-Request-ID` set by the edge proxy is kept when it looks sane, so a
    request can be followed from the load balancer to the database log.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        # Not reset on the way out: Django logs 4xx/5xx responses after the
        # middleware chain returns, and those lines must carry the id too.
        # Every request sets its own id before anything logs.
        request_id_var.set(request_id)
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        logger.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return response


class FormErrorStatusMiddleware:
    """Answer a submitted form that comes back with errors with 400, not 200.

    Views that render their own forms set the status themselves; this covers
    allauth's class-based views, which re-render invalid forms with 200.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_template_response(
        self, request: HttpRequest, response: HttpResponse
    ) -> HttpResponse:
        context = getattr(response, "context_data", None) or {}
        form = context.get("form")
        if (
            request.method == "POST"
            and response.status_code == 200
            and form is not None
            and getattr(form, "is_bound", False)
            and form.errors
        ):
            response.status_code = 400
        return response
