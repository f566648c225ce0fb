"""What accounts holds about people, allauth's and Django's own tables included."""

from datetime import timedelta

from allauth.account.models import EmailAddress, EmailConfirmation
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from allauth.usersessions.models import UserSession
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.models import User
from privacy.registry import Retention, exempt, register

_ADMIN_LOG_KEEP = timedelta(days=365)


def _sweep_expired_sessions() -> int:
    expired, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    live = Session.objects.values("session_key")
    orphaned, _ = UserSession.objects.exclude(session_key__in=live).delete()
    return expired + orphaned


def _sweep_admin_log() -> int:
    deleted, _ = LogEntry.objects.filter(action_time__lt=timezone.now() - _ADMIN_LOG_KEEP).delete()
    return deleted


register(
    User,
    category="Account and profile",
    purpose="Signing you in, showing your name, and your language, time zone and colour choices",
    owner="pk",
    fields=[
        "email",
        "first_name",
        "last_name",
        "title",
        "is_teacher",
        "is_student",
        "organisation_name",
        "country",
        "timezone",
        "language",
        "color_scheme",
        "send_read_receipts",
        "date_joined",
        "last_login",
    ],
    retention=Retention("While your account exists"),
)
register(
    EmailAddress,
    category="Email addresses",
    purpose="Signing in, verifying your address and sending you what you asked for",
    owner="user",
    fields=["email", "verified", "primary"],
    retention=Retention("While your account exists"),
)
register(
    EmailConfirmation,
    category="Email verification links",
    purpose="Confirming that an email address is yours",
    owner="email_address__user",
    fields=["created", "sent"],
    retention=Retention("Until the address is verified or the account is deleted"),
)
register(
    SocialAccount,
    category="Google sign-in link",
    purpose="Signing you in with Google: Google's id for you, your name, email and picture URL",
    owner="user",
    fields=["provider", "uid", "extra_data", "date_joined", "last_login"],
    retention=Retention("While your account exists or until you disconnect Google"),
)
register(
    SocialToken,
    category="Google sign-in tokens",
    purpose="Not stored: Lectern does not keep Google access tokens",
    owner="account__user",
    fields=["expires_at"],
    retention=Retention("Not kept"),
)
register(
    UserSession,
    category="Signed-in sessions",
    purpose="Keeping you signed in and letting you see and end your sessions",
    owner="user",
    fields=["created_at", "last_seen_at", "ip", "user_agent"],
    retention=Retention(
        "Until you sign out, end the session, or it expires after two weeks of inactivity",
        sweep=_sweep_expired_sessions,
    ),
)
register(
    LogEntry,
    category="Staff actions",
    purpose="An audit trail of what staff changed in the administration",
    owner="user",
    fields=["action_time", "object_repr", "action_flag"],
    retention=Retention(
        "12 months, or until the staff account is deleted",
        period=_ADMIN_LOG_KEEP,
        sweep=_sweep_admin_log,
    ),
)
exempt(
    Session,
    reason="Holds only a signed session id and its expiry; the person it belongs to is "
    "declared through UserSession. Expired rows are swept with the retention job.",
)
exempt(SocialApp, reason="OAuth client configuration of the site, no person's data.")
exempt(Group, reason="Staff permission groups; membership is part of the user row.")
exempt(Permission, reason="Static permission names.")
exempt(ContentType, reason="Static model names.")
