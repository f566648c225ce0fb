"""What billing's tests (and others that need a teacher who can sell) build on."""

from importlib import import_module
from typing import Any

from django.apps import apps as django_apps

from billing.models import ConnectAccount, Plan


def seller(teacher: Any, *, can_sell: bool = True, account_id: str = "") -> ConnectAccount:
    """Give `teacher` a mirrored Stripe Connect account, enabled unless told otherwise."""
    return ConnectAccount.objects.create(
        teacher=teacher,
        stripe_account_id=account_id or f"acct_test_teacher{teacher.pk}",
        country="FR",
        default_currency="EUR",
        charges_enabled=can_sell,
        payouts_enabled=can_sell,
        details_submitted=can_sell,
    )


# The migration that makes the default catalogue (Free, Pro, Studio and their prices).
DEFAULT_PLANS = import_module("billing.migrations.0004_default_plans")


def restore_default_catalogue() -> None:
    """Put the default plans back, for tests that run after a transactional test emptied them.

    A transactional test (the browser's, and the race tests on PostgreSQL)
    flushes the database when it ends, rows that migrations made included.
    """
    if Plan.objects.filter(is_free=False).exists():
        return
    Plan.objects.filter(subscriptions__isnull=True).delete()
    DEFAULT_PLANS.seed(django_apps, None)
