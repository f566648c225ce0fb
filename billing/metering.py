"""What features above billing count against a plan's monthly allowances: a hook.

Live classes count participant-minutes and course AI counts units; billing
sits below both and imports neither. Each provides, in its AppConfig.ready,
a function giving what a teacher used in the month that began at `since`,
and whether the feature is set up on this server:

    metering.provide("live", minutes_since, available=client.configured)

A meter nobody provides, or whose feature isn't set up, counts what it has
(nothing, usually) and the plan page says the feature isn't available here.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

type Meter = Callable[[Any, datetime], int]

_meters: dict[str, tuple[Meter, Callable[[], bool]]] = {}


def provide(name: str, meter: Meter, *, available: Callable[[], bool]) -> None:
    """Plug in the meter `name` ("live", "ai") and what says whether its feature is set up."""
    _meters[name] = (meter, available)


def is_metered(name: str) -> bool:
    """Say whether the feature `name` counts use on this server: provided and set up."""
    return name in _meters and _meters[name][1]()


def used(name: str, teacher: Any, since: datetime) -> int:
    """Return what `teacher` used of `name` since `since`; 0 when nothing provides it."""
    provided = _meters.get(name)
    return provided[0](teacher, since) if provided is not None else 0
