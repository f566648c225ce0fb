"""The request being served, for the hooks that run inside it (new accounts, enrolments).

The middleware sets it around each request; a course event or a new account
reached during the request can then be attributed to the visitor's source
without the hook being handed the request.
"""

from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cached_property

from django.http import HttpRequest

from analytics import visits


@dataclass
class RequestState:
    request: HttpRequest
    new_user_ids: list[int] = field(default_factory=list)

    @cached_property
    def visit(self) -> visits.Visit:
        return visits.visit_of(self.request)


current: ContextVar[RequestState | None] = ContextVar("analytics_request", default=None)


def state() -> RequestState | None:
    return current.get()


def visit() -> visits.Visit | None:
    """Return the visit of the request being served, or None outside a request."""
    found = current.get()
    return found.visit if found is not None else None
