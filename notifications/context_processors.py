from functools import cached_property
from typing import Any

from django.http import HttpRequest

from notifications.services import unread_count


class UnreadBadge:
    """The header's unread count, queried only if a template reads it, and only once."""

    def __init__(self, user: Any) -> None:
        self._user = user

    @cached_property
    def count(self) -> int:
        return unread_count(self._user)

    @property
    def label(self) -> str:
        return "99+" if self.count > 99 else str(self.count)


def unread(request: HttpRequest) -> dict[str, Any]:
    """Expose `notification_badge` to templates for signed-in people."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"notification_badge": UnreadBadge(user)}
