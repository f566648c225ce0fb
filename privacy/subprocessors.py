"""The outside services this site sends personal data to, as configured now.

Each line names a service, what it receives and why, and the settings that
switch it on; the subprocessors page shows those whose settings are set. A new
integration adds one line here.
"""

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings


@dataclass(frozen=True)
class Subprocessor:
    name: str
    service: str
    receives: str
    why: str
    enabled: Callable[[], bool]
    # Where the data goes, from settings (host, bucket...), shown to make the page concrete.
    detail: Callable[[], str] = lambda: ""


def _smtp() -> bool:
    return settings.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend"


def _mailgun() -> bool:
    return settings.EMAIL_BACKEND.startswith("anymail.backends.mailgun")


def _storage_detail() -> str:
    bucket = settings.AWS_STORAGE_BUCKET_NAME
    endpoint = settings.AWS_S3_ENDPOINT_URL or "Amazon S3"
    return f"Bucket {bucket} at {endpoint}"


SUBPROCESSORS: tuple[Subprocessor, ...] = (
    Subprocessor(
        name="Email server",
        service="Email delivery (SMTP)",
        receives="Your email address, your name and the text of the emails sent to you",
        why="Sending sign-in, notification, export and account emails",
        enabled=_smtp,
        detail=lambda: f"{settings.EMAIL_HOST}:{settings.EMAIL_PORT}",
    ),
    Subprocessor(
        name="Mailgun",
        service="Email delivery",
        receives="Your email address, your name and the text of the emails sent to you",
        why="Sending sign-in, notification, export and account emails, and reporting bounces",
        enabled=_mailgun,
        detail=lambda: settings.ANYMAIL.get("MAILGUN_SENDER_DOMAIN", ""),
    ),
    Subprocessor(
        name="S3-compatible object storage",
        service="File storage",
        receives="Files you upload and the data exports you ask for",
        why="Keeping uploaded files and exports off the web server's disk",
        enabled=lambda: bool(settings.AWS_STORAGE_BUCKET_NAME),
        detail=_storage_detail,
    ),
    Subprocessor(
        name="LiveKit server",
        service="Live classes (video, audio, screen sharing and in-room chat)",
        receives="Your name, an id that doesn't name you, and what you share in a live class: "
        "camera, microphone, screen and chat messages; recordings the teacher makes",
        why="Running the live classes you join, and telling us who was in the room for attendance",
        enabled=lambda: bool(
            settings.LIVEKIT_URL and settings.LIVEKIT_API_KEY and settings.LIVEKIT_API_SECRET
        ),
        detail=lambda: urlsplit(settings.LIVEKIT_URL).hostname or "",
    ),
    Subprocessor(
        name="AI service (OpenAI-compatible endpoint)",
        service="Course AI: drafts for teachers, the course assistant and page summaries",
        receives="What you ask or write when you use an AI feature, with the course material "
        "it is about; only after you turn AI features on in Settings → Privacy",
        why="Writing the AI answers you ask for",
        enabled=lambda: bool(settings.AI_BASE_URL and settings.AI_MODEL),
        detail=lambda: urlsplit(settings.AI_BASE_URL).hostname or "",
    ),
    Subprocessor(
        name="Sentry",
        service="Error tracking",
        receives="Technical details of a request that failed (the page, the error and the "
        "browser); no names, email addresses, cookies or IP addresses",
        why="Finding and fixing errors",
        enabled=lambda: bool(getattr(settings, "SENTRY_DSN", "")),
    ),
    Subprocessor(
        name="Google",
        service="Sign-in with Google",
        receives="Only that you are signing in to this site, when you choose to; Google sends "
        "back your Google id, name, email address and picture address",
        why="Letting you sign in with your Google account",
        enabled=lambda: bool(getattr(settings, "GOOGLE_CLIENT_ID", "")),
    ),
)


def configured() -> list[Subprocessor]:
    """Return the services this site is configured to use now."""
    return [s for s in SUBPROCESSORS if s.enabled()]
