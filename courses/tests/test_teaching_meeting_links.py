"""The meeting-link validator: Zoom, Google Meet and Microsoft Teams over https only."""

import pytest
from django.core.exceptions import ValidationError

from courses.validators import validate_meeting_url


@pytest.mark.parametrize(
    "url",
    [
        "https://zoom.us/j/123456789",
        "https://us02web.zoom.us/j/123456789?pwd=abc",
        "https://meet.google.com/abc-defg-hij",
        "https://teams.microsoft.com/l/meetup-join/19%3ameeting_x%40thread.v2/0",
        "https://teams.live.com/meet/9876543210",
        "https://MEET.GOOGLE.COM/abc-defg-hij",
    ],
)
def test_it_accepts_zoom_meet_and_teams(url: str) -> None:
    validate_meeting_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://zoom.us/j/1",
        "http://meet.google.com/abc-defg-hij",
        "https://example.com/j/1",
        "https://zoom.us.example.com/j/1",
        "https://evilzoom.us/j/1",
        "https://google.com/meet",
        "https://meet.google.com.evil.example/abc",
        "https://teams.microsoft.com.evil.example/l/1",
        "https://user:pass@zoom.us/j/1",
        "https://zoom.us:8443/j/1",
        "ftp://zoom.us/j/1",
        "javascript:alert(1)",
        "zoom.us/j/1",
        "https://[::1/",
    ],
)
def test_it_refuses_other_hosts_and_plain_http(url: str) -> None:
    with pytest.raises(ValidationError):
        validate_meeting_url(url)


def test_it_says_why_http_is_refused() -> None:
    with pytest.raises(ValidationError, match="https://"):
        validate_meeting_url("http://zoom.us/j/1")
