"""Tell the courses app which teachers can take payments (its `courses.selling` hook)."""

from typing import Any

from django.db.models import Exists, OuterRef
from django.urls import reverse

from billing import client
from billing.models import ConnectAccount
from courses import selling


def can_sell_expression() -> Any:
    """True for a course whose teacher's Stripe account has charges and payouts on."""
    return Exists(
        ConnectAccount.objects.filter(
            teacher_id=OuterRef("teacher_id"), charges_enabled=True, payouts_enabled=True
        )
    )


def describe(teacher: Any) -> selling.Selling | None:
    """Where the teacher's Stripe set-up stands; None when payments are off on this server."""
    if not client.configured():
        return None
    account = ConnectAccount.objects.filter(teacher_id=teacher.pk).first()
    url = reverse("billing:connect")
    links = (("Sales", reverse("billing:sales")), ("Coupons", reverse("billing:coupons")))
    if account is None:
        words = "Payments go straight to your own Stripe account."
        return selling.Selling(False, words, url, links)
    return selling.Selling(account.can_sell, account.state_words, url, links)


def connect() -> None:
    selling.provide(expression=can_sell_expression, describe=describe)
