"""What accounts holds about people, allauth's and Django's own tables included."""

from datetime import timedelta

from allauth.account.models import EmailAddress, EmailConfirmation
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from allauth.usersessions.models import UserSession
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db.models import QuerySet
from django.utils import timezone

from accounts import services
from accounts.models import User
from accounts.views import COLOR_SCHEME_COOKIE
from privacy import cookies
from privacy.registry import Basis, Consent, Retention, consent, exempt, register, rule

_ADMIN_LOG_KEEP = timedelta(days=365)


def _expired_user_sessions() -> QuerySet:
    live = Session.objects.filter(expire_date__gte=timezone.now()).values("session_key")
    return UserSession.objects.exclude(session_key__in=live)


def _purge_user_sessions(batch: QuerySet) -> int:
    keys = list(batch.values_list("session_key", flat=True))
    sessions, _ = Session.objects.filter(session_key__in=keys).delete()
    user_sessions, _ = batch.delete()
    return sessions + user_sessions


def _expired_sessions() -> QuerySet:
    return Session.objects.filter(expire_date__lt=timezone.now())


def _erase_user_sessions(user: User) -> int:
    """End every session of `user`: the stored session as well as allauth's row for it."""
    ended = 0
    for session in UserSession.objects.filter(user=user):
        session.end()
        ended += 1
    return ended


def _erase_admin_log(user: User) -> int:
    """Delete the staff actions `user` made, and unname the entries about their account."""
    deleted, _ = LogEntry.objects.filter(user=user).delete()
    about = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk)
    )
    return deleted + about.update(object_repr="Deleted user", change_message="")


def _expired_admin_log() -> QuerySet:
    return LogEntry.objects.filter(action_time__lt=timezone.now() - _ADMIN_LOG_KEEP)


register(
    User,
    category="Account and profile",
    purpose="Signing you in, showing your name, and your language, time zone and colour choices",
    owner="pk",
    dated_by="date_joined",
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
    erasure_note="Deleted last, once everything else is gone",
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
    dated_by="date_joined",
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
    eraser=_erase_user_sessions,
    erasure_note="Ended on every device the moment you ask, then deleted",
    retention=Retention(
        "Until you sign out, end the session, or it expires after two weeks of inactivity",
        expired=_expired_user_sessions,
        purge=_purge_user_sessions,
    ),
    basis=Basis.LEGITIMATE_INTERESTS,
    dated_by="created_at",
)
register(
    LogEntry,
    category="Staff actions",
    purpose="An audit trail of what staff changed in the administration",
    owner="user",
    fields=["action_time", "object_repr", "action_flag"],
    eraser=_erase_admin_log,
    erasure_note="Deleted; entries about your account no longer name you",
    retention=Retention(
        "12 months, or until the staff account is deleted",
        period=_ADMIN_LOG_KEEP,
        expired=_expired_admin_log,
    ),
    basis=Basis.LEGITIMATE_INTERESTS,
    dated_by="action_time",
)
exempt(
    Session,
    reason="Holds only a signed session id and its expiry; the person it belongs to is "
    "declared through UserSession. Expired rows are swept by the 'Expired sessions' rule.",
)
rule(
    "Expired sessions",
    description="Sign-in sessions of every visitor, signed in or not",
    retention=Retention(
        "Deleted once they expire (two weeks after the last visit)", expired=_expired_sessions
    ),
)
rule(
    "Rate-limit counters",
    description="How often an address or account tried an action (signing up, posting, "
    "exporting), to stop abuse",
    retention=Retention("Kept in the cache only, and gone when their time window ends"),
)
exempt(SocialApp, reason="OAuth client configuration of the site, no person's data.")
exempt(Group, reason="Staff permission groups; membership is part of the user row.")
exempt(Permission, reason="Static permission names.")
exempt(ContentType, reason="Static model names.")


def _set_read_receipts(user: User, wanted: bool) -> None:
    if wanted != user.send_read_receipts:
        services.update_user(user=user, fields={"send_read_receipts": wanted})


consent(
    Consent(
        name="send_read_receipts",
        label="Send read receipts",
        help_text="In direct messages and small groups, people see when you have read their "
        "message. Turned off, you don't send read receipts and don't see anyone's.",
        given=lambda user: user.send_read_receipts,
        save=_set_read_receipts,
        position=20,
    )
)
cookies.declare(
    cookies.Cookie(
        name=COLOR_SCHEME_COOKIE,
        purpose="Remembers whether you chose light, dark or your device's colours, so "
        "pages open in the right colours, signed in or not.",
        lifetime="1 year",
        essential=False,
    )
)
