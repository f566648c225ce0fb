"""Validators for what teachers paste into course items."""

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

# Hosts a session's external meeting link may point to. A suffix entry also
# accepts subdomains (company.zoom.us); an exact entry accepts only itself.
_MEETING_SUFFIXES = ("zoom.us",)
_MEETING_HOSTS = frozenset({"meet.google.com", "teams.microsoft.com", "teams.live.com"})


def meeting_host_allowed(host: str) -> bool:
    """Say whether `host` belongs to Zoom, Google Meet or Microsoft Teams."""
    host = host.lower().rstrip(".")
    if host in _MEETING_HOSTS:
        return True
    return any(host == suffix or host.endswith("." + suffix) for suffix in _MEETING_SUFFIXES)


def validate_meeting_url(value: str) -> None:
    """Accept only https links to Zoom, Google Meet or Microsoft Teams meetings."""
    message = (
        "Paste a Zoom (zoom.us), Google Meet (meet.google.com) or Microsoft Teams "
        "(teams.microsoft.com or teams.live.com) link starting with https://."
    )
    try:
        parts = urlsplit(value.strip())
        host = parts.hostname or ""
        port = parts.port
    except ValueError as exc:
        raise ValidationError(message, code="meeting_url") from exc
    if parts.scheme != "https":
        raise ValidationError(
            "Meeting links must start with https:// so the meeting stays private.",
            code="meeting_url_scheme",
        )
    if parts.username or parts.password or port not in (None, 443):
        raise ValidationError(message, code="meeting_url")
    if not meeting_host_allowed(host):
        raise ValidationError(message, code="meeting_url")
