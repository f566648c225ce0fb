"""What live classes add to session items: a hook the live app fills in.

Courses sit below the live app and import nothing from it. The live app, in
its AppConfig.ready, says whether "Live on Lectern" can be offered on this
server and lists a session's recordings; without a provider, sessions take
external links only:

    courses.live.provide(available=client.configured, recordings_for=recordings.links_for)
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from courses.models import CourseItem


@dataclass(frozen=True)
class RecordingLink:
    """A finished recording of a session, as a student sees it on the session item."""

    title: str
    url: str
    duration_seconds: int | None
    size_bytes: int | None


@dataclass(frozen=True)
class _Provider:
    available: Callable[[], bool]
    recordings_for: Callable[[CourseItem, Any], list[RecordingLink]]


_providers: list[_Provider] = []


def provide(
    *,
    available: Callable[[], bool],
    recordings_for: Callable[[CourseItem, Any], list[RecordingLink]],
) -> None:
    """Plug in the live app: whether it is set up, and a session's recordings for a viewer."""
    _providers[:] = [_Provider(available, recordings_for)]


def available() -> bool:
    """Say whether sessions may be "Live on Lectern" on this server."""
    return bool(_providers) and _providers[0].available()


def recordings_for(item: CourseItem, viewer: Any) -> list[RecordingLink]:
    """Return the recordings of `item` that `viewer` may watch (none without the live app)."""
    return _providers[0].recordings_for(item, viewer) if _providers else []
