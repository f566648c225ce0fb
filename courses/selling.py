"""Whether a teacher can take payments: a hook the billing app fills in.

Courses sit below billing and import nothing from it. Two things here need to
know whether a teacher can sell: the enrolment policy, in its one facts query
(an SQL expression correlated on the course's `teacher_id`), and the teacher's
dashboard, which shows where their payments set-up stands. Billing knows (its
mirror of their Stripe account) and plugs both in, in its AppConfig.ready:

    selling.provide(expression=lambda: Exists(...), describe=lambda teacher: Selling(...))

Without a provider no teacher can sell and paid courses stay closed.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import BooleanField, Value


@dataclass(frozen=True)
class Selling:
    """Where a teacher's payments set-up stands, for their dashboard."""

    can_sell: bool
    words: str  # in plain words: "Finish setting up Stripe: 2 details needed."
    url: str  # where they set it up
    links: tuple[tuple[str, str], ...] = ()  # (label, url) of the pages about their sales


@dataclass
class _Provider:
    expression: Callable[[], Any]
    describe: Callable[[Any], Selling | None]


_providers: list[_Provider] = []


def provide(*, expression: Callable[[], Any], describe: Callable[[Any], Selling | None]) -> None:
    """Plug in the "can sell" expression and the dashboard's description of a teacher's set-up."""
    _providers[:] = [_Provider(expression, describe)]


def can_sell_expression() -> Any:
    """Return the annotation for `teacher_can_sell`: the provider's, else False."""
    if not _providers:
        return Value(False, output_field=BooleanField())
    return _providers[0].expression()


def describe(teacher: Any) -> Selling | None:
    """Return where `teacher`'s payments stand, or None when payments don't exist here."""
    return _providers[0].describe(teacher) if _providers else None
