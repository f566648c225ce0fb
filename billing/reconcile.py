"""Repair what a lost webhook left behind, by asking Stripe (a periodic job).

- A purchase still pending 15 minutes after it started: its Checkout Session
  is retrieved and what became of it applied (paid, abandoned), exactly as
  its event would have. A purchase whose session was never made is abandoned.
- A Connect account not heard of for a day is retrieved and mirrored.

Each purchase and account is its own transaction; one that fails (Stripe
unreachable) is logged and tried again on the next run.
"""

import logging
from datetime import timedelta

from django.utils import timezone

from billing.client import PaymentServiceError
from billing.models import ConnectAccount, Purchase
from billing.services import connect, outcomes

log = logging.getLogger(__name__)

PENDING_AFTER = timedelta(minutes=15)
ACCOUNT_AFTER = timedelta(days=1)
BATCH = 200


def run() -> dict[str, int]:
    now = timezone.now()
    repaired = checked = accounts = 0
    stale = Purchase.objects.filter(
        status=Purchase.Status.PENDING, created_at__lt=now - PENDING_AFTER
    ).order_by("created_at")[:BATCH]
    for purchase in stale:
        checked += 1
        try:
            after = outcomes.confirm_from_stripe(purchase=purchase)
        except PaymentServiceError as error:
            log.warning("Couldn't check purchase %s with Stripe: %s", purchase.pk, error.message)
            continue
        repaired += after.status != Purchase.Status.PENDING
    quiet = ConnectAccount.objects.filter(synced_at__lt=now - ACCOUNT_AFTER).order_by("synced_at")[
        :BATCH
    ]
    for account in quiet:
        try:
            connect.refresh_account(account=account)
        except PaymentServiceError as error:
            log.warning("Couldn't refresh %s from Stripe: %s", account, error.message)
            continue
        accounts += 1
    return {"purchases_checked": checked, "purchases_repaired": repaired, "accounts": accounts}
