"""What course AI adds to course pages: a hook the ai app fills in.

Courses sit below the ai app and import nothing from it. The ai app, in its
AppConfig.ready, says whether AI is set up on this server and which AI
actions a person has at a place on a page; without a provider, pages show
none:

    courses.ai.provide(available=client.configured, links=links.for_place)

Places (what `obj` is there):
- "course_teaching": a course as its teacher manages it (the Course);
- "course_learning": a course as a student follows it (the Course);
- "item": one item as its reader sees it (the CourseItem);
- "submission": a student's work as the teacher grades it (the Submission).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# What a teacher reads where an AI feature can't be offered.
NOT_CONFIGURED = "AI is not configured on this server."
PLACES = ("course_teaching", "course_learning", "item", "submission")


@dataclass(frozen=True)
class AiLink:
    """One AI action offered on a page: where it is done, and how to get there.

    `method` "post" marks an action that starts a paid request at once (a form
    button); "get" opens the action's page, where the person fills a form first.
    """

    label: str
    url: str
    hint: str = ""
    method: str = "get"


@dataclass(frozen=True)
class _Provider:
    available: Callable[[], bool]
    links: Callable[[str, Any, Any], list[AiLink]]


_providers: list[_Provider] = []


def provide(
    *, available: Callable[[], bool], links: Callable[[str, Any, Any], list[AiLink]]
) -> None:
    """Plug in the ai app: whether it is set up, and the actions at a place for a viewer."""
    _providers[:] = [_Provider(available, links)]


def available() -> bool:
    """Say whether AI features can be offered on this server."""
    return bool(_providers) and _providers[0].available()


def links(place: str, obj: Any, viewer: Any) -> list[AiLink]:
    """Return the AI actions `viewer` has at `place` on `obj` (none without the ai app)."""
    if place not in PLACES:
        raise ValueError(f"Unknown place for AI actions: {place!r}")
    if not available():
        return []
    return _providers[0].links(place, obj, viewer)
