"""Stripe's webhook events: stored once, then processed by a task, in any order, any times.

1. The view verifies the signature with the SDK (`billing.client.verify_event`);
   `receive` stores the event once in the Stripe inbox (`outbox.inbox`: one
   `INSERT … ON CONFLICT DO NOTHING`, then the processor woken once per
   burst, not once per event).
2. The inbox claims each due event, oldest first by Stripe's own timestamp,
   and `apply` dispatches it by type to `billing.services`. Handlers lock the
   rows they change and check their state first, so a second delivery finds
   its work done, and compare Stripe's own timestamps and amounts, never
   arrival order. A failure is recorded on the row and tried again later.
3. A periodic job enqueues rows whose attempt is due or whose worker vanished
   (a lost wake-up included). Staff can replay any event from the admin.

Types Lectern doesn't act on (`payment_intent.created`, `transfer.created`,
`application_fee.created`...) are stored and marked done.
"""

from collections.abc import Callable
from typing import Any

from billing.client import PaymentServiceError
from billing.models import ConnectAccount, StripeEvent
from billing.services import common, connect, fraud, outcomes, refunds, subscription_mirror
from core import db
from outbox.inbox import Inbox

PROCESS_TASK = "billing.tasks.process_stripe_event_task"
DRAIN_TASK = "billing.tasks.drain_stripe_events_task"


def receive(*, event: dict[str, Any], body: str, source: str) -> bool:
    """Store a verified event once and wake the processor; False if it was stored already.

    `body` is the event as Stripe sent it (`event` is what it parses to): it is
    stored as received rather than written out again.
    """
    return INBOX.store(
        {
            "event_id": event["id"],
            "type": event.get("type") or "",
            "source": source,
            "account": event.get("account") or "",
            "livemode": bool(event.get("livemode")),
            "stripe_created_at": common.stripe_time(event.get("created")),
            "payload": db.JsonText(body),
        }
    )


# --- Processing ------------------------------------------------------------------------------


def _account_updated(event: StripeEvent, obj: dict[str, Any]) -> None:
    if ConnectAccount.objects.filter(stripe_account_id=obj["id"]).exists():
        connect.apply_account_state(account_id=obj["id"], data=obj, at=event.stripe_created_at)


def _session_completed(event: StripeEvent, obj: dict[str, Any]) -> None:
    if obj.get("mode") == "subscription":  # a teacher subscribing to a plan
        subscription_mirror.checkout_completed(session=obj)
    else:
        outcomes.session_completed(session=obj)


def _async_failed(event: StripeEvent, obj: dict[str, Any]) -> None:
    outcomes.payment_failed(session=obj)


def _session_expired(event: StripeEvent, obj: dict[str, Any]) -> None:
    outcomes.session_expired(session=obj)


def _charge_refunded(event: StripeEvent, obj: dict[str, Any]) -> None:
    refunds.charge_refunded(charge=obj)


def _refund(event: StripeEvent, obj: dict[str, Any]) -> None:
    refunds.refund_updated(refund=obj)


def _dispute_created(event: StripeEvent, obj: dict[str, Any]) -> None:
    refunds.dispute_opened(dispute=obj)


def _dispute_closed(event: StripeEvent, obj: dict[str, Any]) -> None:
    refunds.dispute_closed(dispute=obj)


def _card_failed(event: StripeEvent, obj: dict[str, Any]) -> None:
    # A declined card while the session stays open (the buyer may retry): counted for card
    # testing, not an end to the purchase.
    fraud.record_card_failure(payment=obj, event_id=event.event_id, at=event.stripe_created_at)


def _subscription(event: StripeEvent, obj: dict[str, Any]) -> None:
    subscription_mirror.apply_subscription(data=obj, at=event.stripe_created_at)


def _schedule(event: StripeEvent, obj: dict[str, Any]) -> None:
    subscription_mirror.schedule_changed(data=obj)


def _invoice(event: StripeEvent, obj: dict[str, Any]) -> None:
    failed = event.type == "invoice.payment_failed"
    subscription_mirror.apply_invoice(data=obj, at=event.stripe_created_at, failed=failed)


def _customer(event: StripeEvent, obj: dict[str, Any]) -> None:
    subscription_mirror.customer_changed(customer_id=obj["id"], at=event.stripe_created_at)


def _card(event: StripeEvent, obj: dict[str, Any]) -> None:
    subscription_mirror.card_changed(data=obj, at=event.stripe_created_at)


PLAN_EVENTS: dict[str, Callable[[StripeEvent, dict[str, Any]], None]] = {
    "customer.subscription.created": _subscription,
    "customer.subscription.updated": _subscription,
    "customer.subscription.deleted": _subscription,
    "customer.subscription.paused": _subscription,
    "customer.subscription.resumed": _subscription,
    "subscription_schedule.created": _schedule,
    "subscription_schedule.updated": _schedule,
    "subscription_schedule.released": _schedule,
    "subscription_schedule.canceled": _schedule,
    "subscription_schedule.completed": _schedule,
    "subscription_schedule.aborted": _schedule,
    "invoice.created": _invoice,
    "invoice.finalized": _invoice,
    "invoice.updated": _invoice,
    "invoice.paid": _invoice,
    "invoice.payment_succeeded": _invoice,
    "invoice.payment_failed": _invoice,
    "invoice.voided": _invoice,
    "invoice.marked_uncollectible": _invoice,
    "customer.updated": _customer,
    "payment_method.attached": _card,
    "payment_method.updated": _card,
    "payment_method.automatically_updated": _card,
    "payment_method.detached": _card,
}

HANDLERS: dict[str, Callable[[StripeEvent, dict[str, Any]], None]] = {
    "account.updated": _account_updated,
    "checkout.session.completed": _session_completed,
    "checkout.session.async_payment_succeeded": _session_completed,
    "checkout.session.async_payment_failed": _async_failed,
    "checkout.session.expired": _session_expired,
    "charge.refunded": _charge_refunded,
    "refund.created": _refund,
    "refund.updated": _refund,
    "charge.refund.updated": _refund,
    "charge.dispute.created": _dispute_created,
    "charge.dispute.closed": _dispute_closed,
    **PLAN_EVENTS,
    "charge.failed": _card_failed,
    "payment_intent.payment_failed": _card_failed,
}


def apply(event: StripeEvent) -> None:
    """Run the handler of the event's type; types Lectern doesn't act on change nothing."""
    handler = HANDLERS.get(event.type)
    if handler is not None:
        handler(event, (event.payload.get("data") or {}).get("object") or {})


INBOX = Inbox(
    model=StripeEvent,
    name="billing:stripe-events",
    process_task=PROCESS_TASK,
    drain_task=DRAIN_TASK,
    apply=apply,
    order_by=("stripe_created_at",),
    quiet_errors=(PaymentServiceError,),
)
process = INBOX.process
drain = INBOX.drain
due_event_ids = INBOX.due_ids
wake_processor = INBOX.wake


def replay(*, events: Any) -> int:
    """Process these events again (staff, from the admin): handlers are safe to repeat."""
    return INBOX.replay(events.values_list("event_id", flat=True))
