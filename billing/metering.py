"""What features above billing count against a plan's monthly allowances: a hook.

Live classes count participant-minutes and course AI counts units; billing
sits below both and imports neither. Each provides, in its AppConfig.ready,
a function giving what a teacher used in the month that began at `since`:

    metering.provide("live", lambda teacher, since: minutes_since(teacher, since))

A meter nobody provides counts nothing, and the plan page says the feature
isn't available on this server.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

type Meter = Callable[[Any, datetime], int]

_meters: dict[str, Meter] = {}


def provide(name: str, meter: Meter) -> None:
    """Plug in the meter `name` ("live", "ai")."""
    _meters[name] = meter


def is_metered(name: str) -> bool:
    return name in _meters


def used(name: str, teacher: Any, since: datetime) -> int:
    """Return what `teacher` used of `name` since `since`; 0 when nothing provides it."""
    meter = _meters.get(name)
    return meter(teacher, since) if meter is not None else 0
