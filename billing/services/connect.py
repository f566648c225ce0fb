"""Connect onboarding: a teacher's Stripe Express account, its links and the state mirrored.

Stripe's account objects arrive from webhooks and from reads of our own; one
older than the state recorded is ignored, so a late event never rolls an
account back.
"""

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from billing import client
from billing.models import ConnectAccount


def connect_account_of(teacher: Any) -> ConnectAccount | None:
    return ConnectAccount.objects.filter(teacher_id=teacher.pk).first()


def start_onboarding(*, teacher: User, country: str) -> ConnectAccount:
    """Create the teacher's Express account once (or return it), ready for an Account Link."""
    existing = connect_account_of(teacher)
    if existing is not None:
        return existing
    created = client.create_express_account(
        country=country, email=teacher.email, idempotency_key=f"connect-account:{teacher.pk}"
    )
    account = ConnectAccount(teacher=teacher, stripe_account_id=created["id"], country=country)
    _mirror(account, created, at=timezone.now())
    try:
        with transaction.atomic():
            account.save()
    except IntegrityError:  # a second click won the race: its row stands
        return ConnectAccount.objects.get(teacher=teacher)
    return account


def onboarding_link(*, account: ConnectAccount, refresh_url: str, return_url: str) -> str:
    return client.create_account_link(
        account_id=account.stripe_account_id, refresh_url=refresh_url, return_url=return_url
    )


def dashboard_link(*, account: ConnectAccount) -> str:
    return client.create_login_link(account.stripe_account_id)


def refresh_account(*, account: ConnectAccount) -> ConnectAccount:
    """Ask Stripe for the account's state now and mirror it."""
    fresh = client.retrieve_account(account.stripe_account_id)
    return apply_account_state(account_id=account.stripe_account_id, data=fresh, at=timezone.now())


@transaction.atomic
def apply_account_state(*, account_id: str, data: dict[str, Any], at: datetime) -> ConnectAccount:
    """Mirror an account object Stripe sent at `at`; an older state never overwrites a newer."""
    account = ConnectAccount.objects.select_for_update().get(stripe_account_id=account_id)
    if account.stripe_state_at is not None and at < account.stripe_state_at:
        return account
    _mirror(account, data, at=at)
    account.save()
    return account


def _mirror(account: ConnectAccount, data: dict[str, Any], *, at: datetime) -> None:
    requirements = data.get("requirements") or {}
    due = sorted(
        set(requirements.get("currently_due") or []) | set(requirements.get("past_due") or [])
    )
    profile = data.get("business_profile") or {}
    account.country = (data.get("country") or account.country or "")[:2]
    account.default_currency = (data.get("default_currency") or "").upper()[:3]
    account.business_name = (profile.get("name") or "")[:200]
    account.charges_enabled = bool(data.get("charges_enabled"))
    account.payouts_enabled = bool(data.get("payouts_enabled"))
    account.details_submitted = bool(data.get("details_submitted"))
    account.requirements_due = due
    account.disabled_reason = (requirements.get("disabled_reason") or "")[:100]
    # Stripe's event times are whole seconds: an event of the same second as our own
    # read is applied rather than taken for an older one.
    account.stripe_state_at = at.replace(microsecond=0)
    account.synced_at = timezone.now()
