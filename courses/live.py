"""What live classes add to session items: a hook the live app fills in.

Courses sit below the live app and import nothing from it. The live app, in
its AppConfig.ready, says whether "Live on Lectern" can be offered on this
server and lists a session's recordings; without a provider, sessions take
external links only:

    courses.live.provide(available=client.configured, recordings_for=recordings.links_for)
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings

if TYPE_CHECKING:  # the live app plugs in from its AppConfig, before models may be imported
    from courses.models import CourseItem

# What a teacher reads where "Live on Lectern" can't be offered.
NOT_SET_UP = (
    "Live classes aren't set up on this server yet: "
    "the operator adds a LiveKit server in the settings."
)
# The room opens this long before a session starts.
JOIN_EARLY = timedelta(minutes=15)


@dataclass(frozen=True)
class RecordingLink:
    """A finished recording of a session, as a student sees it on the session item."""

    title: str
    url: str
    duration_seconds: int | None
    size_bytes: int | None
    # Where the teacher deletes it (a POST); empty for everyone else.
    delete_url: str = ""


@dataclass(frozen=True)
class _Provider:
    available: Callable[[], bool]
    recordings_for: Callable[["CourseItem", Any], list[RecordingLink]]


_providers: list[_Provider] = []


def provide(
    *,
    available: Callable[[], bool],
    recordings_for: Callable[["CourseItem", Any], list[RecordingLink]],
) -> None:
    """Plug in the live app: whether it is set up, and a session's recordings for a viewer."""
    _providers[:] = [_Provider(available, recordings_for)]


def available() -> bool:
    """Say whether sessions may be "Live on Lectern" on this server."""
    return bool(_providers) and _providers[0].available()


def recordings_for(item: "CourseItem", viewer: Any) -> list[RecordingLink]:
    """Return the recordings of `item` that `viewer` may watch (none without the live app)."""
    return _providers[0].recordings_for(item, viewer) if _providers else []


def join_window(item: "CourseItem") -> tuple[datetime, datetime]:
    """Return when a session's room opens and closes for joining.

    It opens `JOIN_EARLY` before the start and closes `LIVE_JOIN_GRACE_MINUTES`
    after the end, so a class that runs over isn't cut off.
    """
    assert item.starts_at is not None
    ends_at = item.ends_at or item.starts_at
    return item.starts_at - JOIN_EARLY, ends_at + timedelta(
        minutes=settings.LIVE_JOIN_GRACE_MINUTES
    )
