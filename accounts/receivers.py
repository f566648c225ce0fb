from typing import Any

from accounts import services, user_cache


def end_other_sessions_on_password_change(
    sender: Any, request: Any, user: Any, **kwargs: Any
) -> None:
    """Sign out every other device once the password has changed."""
    services.end_other_sessions(user=user, request=request)


def forget_changed_user(sender: Any, instance: Any, **kwargs: Any) -> None:
    """Drop the signed-in copy of a user whose row was saved or deleted.

    Signing in only stamps `last_login`, which no signed-in request reads from the
    copy: keeping the copy lets people sign in while Redis is away, when dropping
    it would have to refuse (see `core.cache.Copies.drop`).
    """
    if kwargs.get("update_fields") == frozenset({"last_login"}):
        return
    user_cache.forget([instance.pk])
