"""Every cookie Lectern sets, declared once.

The cookies page lists these, and the browser tests fail when a page sets a
cookie that is not declared here, so the list cannot fall behind the code.
Names and lifetimes that settings decide are read from settings each time.
Cookies of the apps above privacy are declared by those apps, from their own
privacy.py, with `declare`.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.utils.module_loading import import_string

_DAY = 24 * 3600


@dataclass(frozen=True)
class Cookie:
    name: str
    purpose: str
    lifetime: str
    essential: bool
    first_party: bool = True


_declared_by_apps: list[Cookie] = []


def declare(cookie: Cookie) -> None:
    """Add a cookie an app sets to the list; called from the app's privacy.py."""
    if any(c.name == cookie.name for c in _declared_by_apps):
        raise ValueError(f"The cookie {cookie.name!r} is already declared.")
    _declared_by_apps.append(cookie)


def _days(seconds: int) -> str:
    days = seconds // _DAY
    if days and days % 365 == 0:
        years = days // 365
        return "1 year" if years == 1 else f"{years} years"
    return "1 day" if days == 1 else f"{days} days"


def _messages_use_cookies() -> bool:
    storage = import_string(settings.MESSAGE_STORAGE)
    return issubclass(storage, CookieStorage) or any(
        issubclass(part, CookieStorage) for part in getattr(storage, "storage_classes", ())
    )


def declared() -> list[Cookie]:
    """Return every cookie this site may set with its current settings."""
    cookies = [
        Cookie(
            name=settings.SESSION_COOKIE_NAME,
            purpose="Keeps you signed in, and a sign-in or sign-up in progress. It holds only a "
            "random id; what it refers to stays on the server.",
            lifetime=f"{_days(settings.SESSION_COOKIE_AGE)} after your last visit, "
            "or until you sign out",
            essential=True,
        ),
    ]
    if not settings.CSRF_USE_SESSIONS:
        cookies.append(
            Cookie(
                name=settings.CSRF_COOKIE_NAME,
                purpose="Stops other websites from sending forms on this site in your name.",
                lifetime=_days(settings.CSRF_COOKIE_AGE)
                if settings.CSRF_COOKIE_AGE
                else "Until you close your browser",
                essential=True,
            )
        )
    if _messages_use_cookies():
        cookies.append(
            Cookie(
                name=CookieStorage.cookie_name,
                purpose="Carries a short confirmation or error message (such as “Your "
                "profile is saved”) to the next page you see.",
                lifetime="Until the next page is shown",
                essential=True,
            )
        )
    cookies.extend(_declared_by_apps)
    return cookies


def declared_names() -> set[str]:
    """Return the name of every declared cookie."""
    return {cookie.name for cookie in declared()}
