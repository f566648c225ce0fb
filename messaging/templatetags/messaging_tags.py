import datetime

from django import template
from django.utils import dateformat, timezone

register = template.Library()


@register.filter
def message_time(value: datetime.datetime | None) -> str:
    """Return "14:05" today, "Mon 3 Nov, 14:05" this year, "3 Nov 2025, 14:05" before."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    today = timezone.localdate()
    if local.date() == today:
        return dateformat.format(local, "H:i")
    if local.year == today.year:
        return dateformat.format(local, "D j M, H:i")
    return dateformat.format(local, "j M Y, H:i")


@register.filter
def list_time(value: datetime.datetime | None) -> str:
    """Return "14:05" today, "3 Nov" this year, "3 Nov 2025" before: short, for lists."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    today = timezone.localdate()
    if local.date() == today:
        return dateformat.format(local, "H:i")
    return dateformat.format(local, "j M" if local.year == today.year else "j M Y")


@register.filter
def initials(user: object) -> str:
    """Return up to two capital letters for an avatar."""
    first = (getattr(user, "first_name", "") or "")[:1]
    last = (getattr(user, "last_name", "") or "")[:1]
    letters = (first + last) or (getattr(user, "email", "") or "?")[:1]
    return letters.upper()


@register.filter
def display_name(user: object) -> str:
    """Return a person's full name, or a plain stand-in when they have none."""
    name = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return name or "Someone"
