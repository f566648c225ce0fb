"""What billing's tests (and others that need a teacher who can sell) build on."""

from typing import Any

from billing.models import ConnectAccount


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
