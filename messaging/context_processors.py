from functools import cached_property
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from messaging import badge


class UnreadMessages:
    """The header's unread-message count: queried only if a template reads it, and only once."""

    def __init__(self, user: Any) -> None:
        self._user = user

    @cached_property
    def count(self) -> int:
        return badge.unread_total(self._user)

    @property
    def label(self) -> str:
        return "99+" if self.count > 99 else str(self.count)

    @property
    def poll_seconds(self) -> int:
        """Ask for the count again this often: less eagerly than an open conversation does."""
        return 5 * int(settings.MESSAGE_POLL_SECONDS)


def unread(request: HttpRequest) -> dict[str, Any]:
    """Expose `message_badge` to templates for signed-in people."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"message_badge": UnreadMessages(user)}
