"""How much storage a teacher's files may take: a hook the billing app fills in from plans.

Files sit below billing and import nothing from it. Billing provides the
storage limit of the teacher's plan (None: no limit), in its AppConfig.ready;
without a provider nothing limits storage:

    quotas.provide(lambda user: plan_of(user).storage_mb * 1024 * 1024)
"""

from collections.abc import Callable
from typing import Any

type QuotaFor = Callable[[Any], int | None]

_providers: list[QuotaFor] = []


def provide(quota_for: QuotaFor) -> None:
    """Plug in the function that gives a teacher's storage quota in bytes (None: no limit)."""
    _providers[:] = [quota_for]


def quota_for(user: Any) -> int | None:
    """Return the bytes `user`'s files may take; None means no limit."""
    return _providers[0](user) if _providers else None
