"""Count storefront traffic and set the analytics cookies, without touching the database.

Goes in `MIDDLEWARE` after `CommonMiddleware`. For every request it makes the
request known to the hooks that run inside it (`analytics.current`); after
the view it counts, by the URL name the resolver matched:

- a storefront page (a course's or a teacher's) answered 200 to a GET: a
  view, with the visitor's day hash when they carry the cookie; the
  cookies are set on the response;
- a POST to enrol, register, buy or check out answered below 400: a click;
- an account made during the request: a registration, for the course of
  the address or else the course the visitor landed on.

Counting is one Redis round trip (or a dict in the embedded default); the
flush job writes the daily rows.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

from analytics import counters, current, visits

PAGES = {"storefront:course": "slug", "storefront:teacher_page": "handle"}
CLICKS = {"courses:enroll", "courses:register", "billing:buy", "billing:checkout"}


def page_of(view_name: str, kwargs: dict[str, object]) -> str:
    if view_name == "storefront:teacher_page":
        return f"t/{kwargs.get('handle', '')}"
    return f"c/{kwargs.get('slug', '')}"


def landing_page(visit: visits.Visit) -> str:
    """Return the storefront page the visitor first landed on, as a counter's page name."""
    path = visit.first_touch.landing_path if visit.first_touch else ""
    parts = path.strip("/").split("/")
    if len(parts) == 2 and parts[0] in ("c", "t") and parts[1]:
        return f"{parts[0]}/{parts[1]}"
    return ""


class StorefrontAnalyticsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        state = current.RequestState(request)
        token = current.current.set(state)
        try:
            response = self.get_response(request)
        finally:
            current.current.reset(token)
        match = request.resolver_match
        if match is None:
            return response
        name = match.view_name
        if name in PAGES:
            if request.method == "GET" and response.status_code == 200:
                self._count_view(request, response, page_of(name, match.kwargs))
        elif name in CLICKS and request.method == "POST" and response.status_code < 400:
            self._count(counters.CLICK, page_of(name, match.kwargs), state.visit)
        if state.new_user_ids:
            page = page_of(name, match.kwargs) if name in CLICKS else landing_page(state.visit)
            if page:
                for _ in state.new_user_ids:
                    self._count(counters.REGISTRATION, page, state.visit)
        return response

    def _count_view(self, request: HttpRequest, response: HttpResponse, page: str) -> None:
        visit = visits.landing_visit(request)
        counters.record(
            counters.Hit(
                kind=counters.VIEW,
                page=page,
                utm_source=visit.utm_source,
                referrer_domain=visit.referrer_domain,
                visitor_id=visit.visitor_id,
            )
        )
        if visit.new_cookies:
            visits.set_cookies(request, response, visit)
            # A response that sets a visitor's own id is theirs alone: no shared cache keeps it.
            patch_cache_control(response, private=True)

    def _count(self, kind: str, page: str, visit: visits.Visit) -> None:
        counters.record(
            counters.Hit(
                kind=kind,
                page=page,
                utm_source=visit.utm_source,
                referrer_domain=visit.referrer_domain,
            )
        )
