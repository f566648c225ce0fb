"""“Tell me when it opens” on a course's storefront: a hook the crm app fills in.

Storefront sits below crm and imports nothing from it. The crm app says, in its
AppConfig.ready, where a visitor asks to be told when a course opens; the course
page shows the button only for a course that is full or not open yet:

    storefront.interest.provide(url_for=lambda course: reverse("crm:notify_me", ...))
"""

from collections.abc import Callable
from typing import Any

_providers: list[Callable[[Any], str]] = []

# Why a course can't be joined now for which the button makes sense (not archived or paused
# for good: a finished course won't open again).
NOT_OPEN_YET = ("paid", "paused", "draft")


def provide(*, url_for: Callable[[Any], str]) -> None:
    """Plug in where the “Tell me when it opens” form of a course is."""
    _providers[:] = [url_for]


def url_for(course: Any, answer: Any) -> str:
    """Return the form's address for a course that is full or not open yet, else ""."""
    if not _providers or answer is None or not getattr(answer, "public_reachable", False):
        return ""
    if answer.offer in ("manage", "go_to_course", "held", "on_waitlist", "removed"):
        return ""
    closed = str(answer.closed) if answer.closed else ""
    waiting_for_seat = answer.seats_left == 0 and answer.offer in (
        "log_in_to_wait",
        "join_waitlist",
    )
    if closed in NOT_OPEN_YET or (not closed and waiting_for_seat):
        return _providers[0](course)
    return ""
