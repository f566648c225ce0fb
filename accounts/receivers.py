from typing import Any

from accounts import services


def end_other_sessions_on_password_change(
    sender: Any, request: Any, user: Any, **kwargs: Any
) -> None:
    """Sign out every other device once the password has changed."""
    services.end_other_sessions(user=user, request=request)
