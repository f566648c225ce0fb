"""The WSGI handler: people's requests go through the middleware, webhooks straight to their view.

Stripe's and LiveKit's webhooks are machines posting signed events: no
cookie, no session, no CSRF token, no page to render. Each is verified by
its signature and stored once. Sessions, authentication, CSRF, messages,
content security policy, locale, time zones and policy acceptance have
nothing to do for them, and running those 18 layers cost more than storing
the event. So a POST to a webhook's exact path is handed to its view with
only the request id around it, for its log line; everything else, and any
other method on those paths, takes Django's usual way.

The views stay plain Django views, so the test client (which always runs the
middleware) exercises the same code; `config/tests/test_handlers.py` checks
this handler's own path.
"""

from collections.abc import Callable
from typing import Any, cast

from django.conf import settings
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponse
from django.urls import resolve, reverse, set_urlconf

from core import metrics
from core.middleware import RequestIdMiddleware

WEBHOOKS = ("billing:stripe_webhook", "billing:stripe_connect_webhook", "live:livekit_webhook")

type View = Callable[[HttpRequest], HttpResponse]


class Handler(WSGIHandler):
    def __init__(self) -> None:
        super().__init__()
        self.webhooks: dict[str, View] = {}
        for name in WEBHOOKS:
            path = reverse(name)
            view = resolve(path).func
            # The webhook views are plain synchronous views: they answer an HttpResponse.
            answer = cast(View, convert_exception_to_response(view))
            self.webhooks[path] = metrics.counted(RequestIdMiddleware(answer), route=name)

    def get_response(self, request: HttpRequest) -> Any:
        webhook = self.webhooks.get(request.path_info) if request.method == "POST" else None
        if webhook is None:
            return super().get_response(request)
        set_urlconf(settings.ROOT_URLCONF)
        response: Any = webhook(request)
        response._resource_closers.append(request.close)
        return response
