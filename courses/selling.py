"""Whether a teacher can take payments: a hook the billing app fills in.

Courses sit below billing and import nothing from it. Two things here need to
know whether a teacher can sell: the enrolment policy, in its one facts query
(SQL expressions correlated on the course's `teacher_id`: can they take
payments at all, and are their new paid enrolments paused — by their plan's
limit or a review — with the words students see), and the teacher's
dashboard, which shows where their payments set-up stands and any notice
about their sales. Billing knows (its mirror of their Stripe account, their
plan-cap state) and plugs them in, in its AppConfig.ready:

    selling.provide(
        expression=lambda: Exists(...),
        paused=lambda: Case(...),
        describe=lambda teacher: Selling(...),
    )

Without a provider no teacher can sell and paid courses stay closed.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import BooleanField, CharField, Value


@dataclass(frozen=True)
class Notice:
    """A banner on the teacher's dashboard about their sales, in plain words."""

    level: str  # "warning" or "danger"
    title: str
    words: str
    url: str  # where they act on it
    label: str  # the link's words


@dataclass(frozen=True)
class Selling:
    """Where a teacher's payments set-up stands, for their dashboard."""

    can_sell: bool
    words: str  # in plain words: "Finish setting up Stripe: 2 details needed."
    url: str  # where they set it up
    links: tuple[tuple[str, str], ...] = ()  # (label, url) of the pages about their sales
    notices: tuple[Notice, ...] = ()


@dataclass
class _Provider:
    expression: Callable[[], Any]
    paused: Callable[[], Any]
    describe: Callable[[Any], Selling | None]


_providers: list[_Provider] = []


def provide(
    *,
    expression: Callable[[], Any],
    paused: Callable[[], Any],
    describe: Callable[[Any], Selling | None],
) -> None:
    """Plug in the "can sell" and "paused" expressions and the dashboard's description."""
    _providers[:] = [_Provider(expression, paused, describe)]


def can_sell_expression() -> Any:
    """Return the annotation for `teacher_can_sell`: the provider's, else False."""
    if not _providers:
        return Value(False, output_field=BooleanField())
    return _providers[0].expression()


def paused_expression() -> Any:
    """Return the annotation for `teacher_paused`: the provider's, else "".

    It says why the teacher's new paid enrolments are stopped, in words for
    students, and is "" when they aren't.
    """
    if not _providers:
        return Value("", output_field=CharField())
    return _providers[0].paused()


def describe(teacher: Any) -> Selling | None:
    """Return where `teacher`'s payments stand, or None when payments don't exist here."""
    return _providers[0].describe(teacher) if _providers else None
