"""A teacher's own plan: subscribing, changing plan, the Customer Portal, and erasure.

A teacher becomes a Stripe Customer of the platform once, at their first
checkout. Subscribing goes through Stripe Checkout; once subscribed:

- an upgrade (a plan later in the catalogue's order) applies now, and the
  prorated difference is invoiced at once;
- a downgrade, or a change of interval alone, waits for the end of the period
  already paid: a Stripe subscription schedule holds it, and Lectern shows it
  as the pending change until then, with a way to cancel it;
- cancelling the plan and changing the card happen in Stripe's Customer Portal.

After every change made here the subscription is read back from Stripe, so the
page is right before the webhooks arrive (`subscription_mirror`).
"""

import time
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from billing import client
from billing.client import PaymentServiceError
from billing.models import BillingCustomer, PlanPrice, Subscription
from billing.services import plans, subscription_mirror
from billing.services.subscription_mirror import ENDED, LIVE_SCHEDULE, object_id

# A second click within the same half hour reopens the same Checkout Session.
CHECKOUT_WINDOW = 30 * 60


class PlanChangeRefusedError(Exception):
    """A plan change that can't be made; `message` says why, for the teacher."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def customer_of(teacher: Any) -> BillingCustomer | None:
    return BillingCustomer.objects.filter(teacher_id=teacher.pk).first()


def offered_prices() -> Any:
    """The prices a teacher may choose: offered paid plans, known to Stripe."""
    return (
        PlanPrice.objects.filter(active=True, plan__offered=True, plan__is_free=False)
        .exclude(stripe_price_id="")
        .select_related("plan")
    )


def ensure_customer(*, teacher: Any) -> BillingCustomer:
    """The teacher's Stripe Customer, created the first time (once, whatever the clicks)."""
    existing = customer_of(teacher)
    if existing is not None:
        return existing
    name = teacher.get_full_name() or teacher.email
    created = client.create_customer(
        email=teacher.email,
        name=name,
        metadata={"teacher_id": str(teacher.pk)},
        idempotency_key=f"billing-customer:{teacher.pk}",
    )
    try:
        with transaction.atomic():
            return BillingCustomer.objects.create(
                teacher=teacher, stripe_customer_id=created["id"], email=teacher.email, name=name
            )
    except IntegrityError:  # a second click won the race: its row stands
        return BillingCustomer.objects.get(teacher=teacher)


def start_checkout(*, teacher: Any, price: PlanPrice, base_url: str) -> str:
    """Open Stripe Checkout for a first subscription to `price`; return its address."""
    if plans.live_subscription(teacher) is not None:
        raise PlanChangeRefusedError("You have a plan already: change it on this page instead.")
    _check_offered(price)
    customer = ensure_customer(teacher=teacher)
    window = int(time.time()) // CHECKOUT_WINDOW
    session = client.create_subscription_checkout(
        customer_id=customer.stripe_customer_id,
        price_id=price.stripe_price_id,
        metadata={"teacher_id": str(teacher.pk), "plan_price_id": str(price.pk)},
        success_url=base_url + reverse("billing:plan_return") + "?session_id={CHECKOUT_SESSION_ID}",
        cancel_url=base_url + reverse("billing:plan") + "?checkout=cancelled",
        # Stripe wants 30 minutes at least: the end of the next window is 30 to 60 away.
        expires_at=(window + 2) * CHECKOUT_WINDOW,
        idempotency_key=f"plan-checkout:{teacher.pk}:{price.pk}:{window}",
    )
    return str(session["url"])


def finish_checkout(*, teacher: Any, session_id: str) -> Subscription | None:
    """Back from Checkout: mirror the subscription the session made, if it is the teacher's."""
    customer = customer_of(teacher)
    if customer is None or not session_id.startswith("cs_"):
        return None
    session = client.retrieve_checkout_session(session_id)
    if session.get("mode") != "subscription":
        return None
    if object_id(session.get("customer")) != customer.stripe_customer_id:
        return None
    subscription_id = object_id(session.get("subscription"))
    if not subscription_id:
        return None
    subscription = subscription_mirror.refresh_subscription(subscription_id)
    subscription_mirror.refresh_customer(customer=customer)  # the card just given
    return subscription


def refresh_teacher(*, teacher: Any) -> None:
    """Read the teacher's customer, cards and running subscriptions from Stripe (portal return)."""
    customer = customer_of(teacher)
    if customer is None:
        return
    subscription_mirror.refresh_customer(customer=customer)
    running = Subscription.objects.filter(customer=customer).exclude(status__in=ENDED)
    for subscription_id in running.values_list("stripe_subscription_id", flat=True):
        subscription_mirror.refresh_subscription(subscription_id)


def _check_offered(price: PlanPrice, current: Subscription | None = None) -> None:
    keeps_plan = current is not None and price.plan_id == current.plan_id
    offered = price.plan.offered and price.active and not price.plan.is_free
    if not price.stripe_price_id or not (offered or keeps_plan):
        raise PlanChangeRefusedError("This plan can't be chosen right now.")


def _lock_live(teacher: Any) -> Subscription | None:
    """Lock the teacher's customer, then their live subscription (the order webhooks lock in)."""
    customer = BillingCustomer.objects.select_for_update().filter(teacher_id=teacher.pk).first()
    if customer is None:
        return None
    live = plans.live_subscription(teacher)
    if live is None:
        return None
    return Subscription.objects.select_for_update().select_related("plan").get(pk=live.pk)


@transaction.atomic
def change_plan(*, teacher: Any, price: PlanPrice) -> Subscription:
    """Move the teacher's subscription to `price`: now for an upgrade, else at the period's end."""
    subscription = _lock_live(teacher)
    if subscription is None:
        raise PlanChangeRefusedError("You're on the Free plan: choose a plan to subscribe.")
    _check_offered(price, subscription)
    if subscription.cancel_at_period_end:
        raise PlanChangeRefusedError(
            "Your plan is cancelled: renew it in the billing portal first, then change it here."
        )
    if price.currency != subscription.currency:
        raise PlanChangeRefusedError(
            f"Your plan is billed in {subscription.currency}: choose a price in "
            f"{subscription.currency}. To pay in another currency, cancel and subscribe again."
        )
    if price.plan_id == subscription.plan_id and price.interval == subscription.interval:
        raise PlanChangeRefusedError("You're on this plan already.")
    if price.pk == subscription.pending_price_id:
        raise PlanChangeRefusedError("This change is planned already.")
    data = client.retrieve_subscription(subscription.stripe_subscription_id)
    if plans.is_upgrade(subscription.plan, price.plan):
        _upgrade(subscription, data, price)
    else:
        _schedule(subscription, data, price)
    refreshed = subscription_mirror.refresh_subscription(subscription.stripe_subscription_id)
    return refreshed or subscription


def _upgrade(subscription: Subscription, data: dict[str, Any], price: PlanPrice) -> None:
    schedule = data.get("schedule")
    if schedule and (not isinstance(schedule, dict) or schedule.get("status") in LIVE_SCHEDULE):
        # A downgrade planned before is dropped: the upgrade replaces it.
        client.release_schedule(object_id(schedule))
    item = data["items"]["data"][0]
    client.change_subscription_price(
        subscription_id=subscription.stripe_subscription_id,
        item_id=item["id"],
        price_id=price.stripe_price_id,
    )


def _schedule(subscription: Subscription, data: dict[str, Any], price: PlanPrice) -> None:
    schedule = data.get("schedule")
    if not isinstance(schedule, dict) or schedule.get("status") not in LIVE_SCHEDULE:
        schedule = client.create_schedule(
            subscription_id=subscription.stripe_subscription_id,
            # The row changes with every state mirrored: a retry of this request replays.
            idempotency_key=f"plan-schedule:{subscription.pk}:{subscription.updated_at.timestamp()}",
        )
    item = data["items"]["data"][0]
    phase = schedule.get("current_phase") or (schedule.get("phases") or [{}])[0]
    client.schedule_price_change(
        schedule_id=schedule["id"],
        current={
            "price": object_id(item.get("price")),
            "start_date": phase.get("start_date") or item.get("current_period_start"),
            "end_date": item.get("current_period_end") or phase.get("end_date"),
        },
        price_id=price.stripe_price_id,
        interval=price.interval,
    )


@transaction.atomic
def cancel_pending_change(*, teacher: Any) -> Subscription:
    """Drop the planned downgrade or interval change: the plan goes on as it is."""
    subscription = _lock_live(teacher)
    if subscription is None or not (
        subscription.pending_price_id or subscription.stripe_schedule_id
    ):
        raise PlanChangeRefusedError("There's no planned change to cancel.")
    if subscription.stripe_schedule_id:
        try:
            client.release_schedule(subscription.stripe_schedule_id)
        except PaymentServiceError as error:
            if error.retryable:
                raise
            # Released or ended already (in Stripe's dashboard, or a second click): read it back.
    refreshed = subscription_mirror.refresh_subscription(subscription.stripe_subscription_id)
    return refreshed or subscription


PORTAL_FLOWS = ("manage", "payment_method", "cancel")


def portal_url(*, teacher: Any, return_url: str, flow: str = "manage") -> str:
    """A Customer Portal link for the teacher, opened on one task (`flow`) or its home page."""
    customer = customer_of(teacher)
    if customer is None:
        raise PlanChangeRefusedError("You have no billing account yet: choose a plan first.")
    data: dict[str, Any] | None = None
    if flow == "payment_method":
        data = {"type": "payment_method_update"}
    elif flow == "cancel":
        live = plans.live_subscription(teacher)
        if live is None:
            raise PlanChangeRefusedError("You have no plan to cancel.")
        data = {
            "type": "subscription_cancel",
            "subscription_cancel": {"subscription": live.stripe_subscription_id},
        }
    return client.create_portal_session(
        customer_id=customer.stripe_customer_id, return_url=return_url, flow=data
    )


# --- Erasure -----------------------------------------------------------------------------------


def erase_customer(teacher: Any) -> int:
    """Erase the teacher's billing customer: end their subscriptions now, then delete it at Stripe.

    The registry's eraser. Subscriptions and invoices stay, without the
    teacher, for the tax record. Stripe refusing or unreachable fails the
    step, and the erasure is tried again later.
    """
    customer = customer_of(teacher)
    if customer is None:
        return 0
    if client.configured():
        running = Subscription.objects.filter(
            Q(teacher_id=teacher.pk) | Q(customer=customer)
        ).exclude(status__in=ENDED)
        for subscription_id in running.values_list("stripe_subscription_id", flat=True):
            _cancel_now(subscription_id)
        client.delete_customer(customer.stripe_customer_id)
    deleted, _ = BillingCustomer.objects.filter(pk=customer.pk).delete()
    return deleted


def _cancel_now(subscription_id: str) -> None:
    try:
        data = client.cancel_subscription(subscription_id)
    except PaymentServiceError as error:
        if error.retryable:
            raise
        data = client.retrieve_subscription(subscription_id)  # ended at Stripe already?
        if data.get("status") not in ENDED:
            raise
    subscription_mirror.apply_subscription(data=data, at=timezone.now(), fresh=True)
