"""Teachers' subscriptions, invoices and cards as Stripe holds them, kept from its events.

Stripe is the record; these functions keep Lectern's copy, from webhooks and
from reads of our own after a change made here. Events come in any order and
any number of times, and every sequence must end in the same state:

- A subscription or invoice keeps the `created` time of the newest event
  applied to it (`stripe_state_at`); an older event is ignored. Events of the
  same second are common (a checkout makes a dozen), so a tie is settled: a
  subscription event that disagrees with the copy is settled by reading the
  subscription from Stripe; an invoice keeps the furthest status of its
  one-way life (draft → open → uncollectible → paid or void).
- A read of our own is the newest state there is: it is applied whatever the
  copy holds, and stamped with the time it was made.
- A subscription event names its schedule but not the schedule's phases, where
  a pending plan change lives. The schedule is read from Stripe when it first
  appears on a subscription and whenever one of its events arrives.
- A customer's cards are few and rarely change: a customer or card event newer
  than the copy reads the customer and all their cards again from Stripe.
- `payment_failed_at` ends as the latest failed payment when it came after the
  latest successful one, and empty otherwise, whatever the order: a failure
  older than a payment already recorded is ignored, and a payment clears the
  failures recorded before it. The teacher is emailed once per failed
  invoice, unless it was paid by the time its failure is processed.

Every handler locks the customer's row first, then the subscription's, then
the invoice's, so two events about one teacher wait for each other.
"""

import logging
from datetime import UTC, datetime
from typing import Any

from allauth.account.adapter import get_adapter
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from billing import client
from billing.models import BillingCustomer, Invoice, PaymentMethod, Plan, PlanPrice, Subscription
from billing.services import caps
from billing.services.common import _absolute
from core.money import format_money
from outbox import services as outbox

log = logging.getLogger(__name__)

Status = Subscription.Status
ENDED = (Status.CANCELED, Status.INCOMPLETE_EXPIRED)
LIVE_SCHEDULE = ("not_started", "active")
# An invoice's statuses along its one way: a tie of two events keeps the further one.
INVOICE_PROGRESS = {"draft": 0, "open": 1, "uncollectible": 2, "paid": 3, "void": 3}
PENDING_FIELDS = ["pending_plan", "pending_price", "pending_change_at", "stripe_schedule_id"]
SUBSCRIPTION_FIELDS = [
    "plan",
    "price",
    "interval",
    "currency",
    "status",
    "current_period_end",
    "cancel_at_period_end",
    "canceled_at",
    "ended_at",
    *PENDING_FIELDS,
    "stripe_state_at",
    "updated_at",
]
INVOICE_FIELDS = [
    "subscription",
    "number",
    "status",
    "billing_reason",
    "currency",
    "amount_due",
    "amount_paid",
    "hosted_invoice_url",
    "invoice_pdf",
    "issued_at",
    "period_start",
    "period_end",
    "paid_at",
    "stripe_state_at",
]


def object_id(value: Any) -> str:
    """The id of a Stripe reference, whether it came as an id or expanded."""
    if isinstance(value, dict):
        return str(value.get("id") or "")
    return str(value or "")


def _time(seconds: Any) -> datetime | None:
    return datetime.fromtimestamp(int(seconds), tz=UTC) if seconds else None


def _read_now(stored: datetime | None = None) -> datetime:
    """The stamp of a read of our own: now, in Stripe's whole seconds, never before `stored`."""
    now = timezone.now().replace(microsecond=0)
    return max(now, stored) if stored is not None else now


def _lock_customer(customer_id: str) -> BillingCustomer | None:
    if not customer_id:
        return None
    return (
        BillingCustomer.objects.select_for_update().filter(stripe_customer_id=customer_id).first()
    )


def _lock_subscription(subscription_id: str) -> Subscription | None:
    return (
        Subscription.objects.select_for_update()
        .filter(stripe_subscription_id=subscription_id)
        .first()
    )


# --- Subscriptions ---------------------------------------------------------------------------


def refresh_subscription(subscription_id: str) -> Subscription | None:
    """Read the subscription (with its schedule) from Stripe now and mirror it."""
    data = client.retrieve_subscription(subscription_id)
    return apply_subscription(data=data, at=timezone.now(), fresh=True)


@transaction.atomic
def apply_subscription(
    *, data: dict[str, Any], at: datetime, fresh: bool = False
) -> Subscription | None:
    """Mirror a subscription object Stripe sent at `at` (`fresh`: read by us just now).

    Subscriptions of customers Lectern didn't make, or on products outside the
    catalogue, are left alone.
    """
    customer = _lock_customer(object_id(data.get("customer")))
    values = _subscription_values(data)
    if customer is None or values is None:
        log.info("Stripe subscription %s isn't a teacher's plan; ignored", data.get("id"))
        return None
    subscription = _lock_subscription(data["id"])
    if subscription is not None and not fresh and subscription.stripe_state_at is not None:
        if at < subscription.stripe_state_at:
            return subscription
        if at == subscription.stripe_state_at and _differs(subscription, values):
            return refresh_subscription(data["id"])
    if subscription is None:
        subscription = Subscription(
            stripe_subscription_id=data["id"],
            teacher_id=customer.teacher_id,
            customer=customer,
            created_at=_time(data.get("created")) or timezone.now(),
        )
    known_schedule = subscription.stripe_schedule_id
    limits_before = (subscription.plan_id, subscription.is_live) if subscription.pk else None
    for name, value in values.items():
        setattr(subscription, name, value)
    schedule = data.get("schedule")
    if subscription.status in ENDED or not schedule:
        _clear_pending(subscription)
    elif isinstance(schedule, dict):
        _apply_schedule(subscription, schedule)
    elif schedule != known_schedule:
        _apply_schedule(subscription, client.retrieve_schedule(schedule))
    if (
        subscription.pending_price_id is not None
        and subscription.pending_price_id == subscription.price_id
    ):
        _clear_pending(subscription, keep_schedule=True)  # the change has happened
    stamp = at.replace(microsecond=0)
    subscription.stripe_state_at = _read_now(subscription.stripe_state_at) if fresh else stamp
    subscription.save(update_fields=SUBSCRIPTION_FIELDS if subscription.pk else None)
    if limits_before != (subscription.plan_id, subscription.is_live) and subscription.teacher_id:
        # A bigger plan lifts a cap state at once; a smaller one is held to its limit.
        caps.evaluate(subscription.teacher_id)
    return subscription


def _subscription_values(data: dict[str, Any]) -> dict[str, Any] | None:
    """The mirrored fields of a subscription object; None when its price is none of our plans'."""
    items = (data.get("items") or {}).get("data") or []
    if not items:
        return None
    item = items[0]
    price = item.get("price") or {}
    plan_price = (
        PlanPrice.objects.select_related("plan").filter(stripe_price_id=price.get("id")).first()
        if price.get("id")
        else None
    )
    product = object_id(price.get("product"))
    # A price replaced in the catalogue still names its plan's product.
    plan = Plan.objects.filter(stripe_product_id=product).first() if product else None
    plan = plan or (plan_price.plan if plan_price else None)
    if plan is None:
        return None
    interval = (price.get("recurring") or {}).get("interval") or ""
    currency = str(price.get("currency") or data.get("currency") or "").upper()
    if plan_price is None or plan_price.plan_id != plan.pk:
        plan_price = PlanPrice.objects.filter(
            plan=plan, interval=interval, currency=currency
        ).first()
    return {
        "plan": plan,
        "price": plan_price,
        "interval": interval,
        "currency": currency,
        "status": data.get("status") or "",
        "current_period_end": _time(
            item.get("current_period_end") or data.get("current_period_end")
        ),
        "cancel_at_period_end": bool(data.get("cancel_at_period_end") or data.get("cancel_at")),
        "canceled_at": _time(data.get("canceled_at")),
        "ended_at": _time(data.get("ended_at")),
    }


def _differs(subscription: Subscription, values: dict[str, Any]) -> bool:
    for name, value in values.items():
        current = getattr(subscription, name)
        if isinstance(value, (Plan, PlanPrice)) or isinstance(current, (Plan, PlanPrice)):
            if getattr(current, "pk", None) != getattr(value, "pk", None):
                return True
        elif current != value:
            return True
    return False


def _apply_schedule(subscription: Subscription, schedule: dict[str, Any]) -> None:
    """Take the pending change from a schedule as Stripe holds it now (read, or expanded)."""
    if schedule.get("status") not in LIVE_SCHEDULE:
        # An old schedule's end says nothing about a newer one.
        if subscription.stripe_schedule_id in ("", schedule.get("id")):
            _clear_pending(subscription)
        return
    subscription.stripe_schedule_id = str(schedule["id"])
    current = schedule.get("current_phase") or {}
    started = current.get("start_date") or 0
    later = [p for p in schedule.get("phases") or [] if (p.get("start_date") or 0) > started]
    for phase in later:
        items = phase.get("items") or []
        price_id = object_id(items[0].get("price")) if items else ""
        target = PlanPrice.objects.select_related("plan").filter(stripe_price_id=price_id).first()
        if target is not None and target.pk != subscription.price_id:
            subscription.pending_plan = target.plan
            subscription.pending_price = target
            subscription.pending_change_at = _time(phase.get("start_date"))
            return
    _clear_pending(subscription, keep_schedule=True)


def _clear_pending(subscription: Subscription, *, keep_schedule: bool = False) -> None:
    subscription.pending_plan = None
    subscription.pending_price = None
    subscription.pending_change_at = None
    if not keep_schedule:
        subscription.stripe_schedule_id = ""


@transaction.atomic
def schedule_changed(*, data: dict[str, Any]) -> Subscription | None:
    """A subscription schedule changed: read it from Stripe and mirror its pending change.

    A schedule's events carry no order Lectern can rely on against the
    subscription's own, so its state is read afresh rather than compared.
    """
    subscription_id = object_id(data.get("subscription")) or object_id(
        data.get("released_subscription")
    )
    customer = _lock_customer(object_id(data.get("customer")))
    if not subscription_id or customer is None:
        return None
    subscription = _lock_subscription(subscription_id)
    if subscription is None:
        return refresh_subscription(subscription_id)
    _apply_schedule(subscription, client.retrieve_schedule(data["id"]))
    subscription.save(update_fields=[*PENDING_FIELDS, "updated_at"])
    return subscription


@transaction.atomic
def checkout_completed(*, session: dict[str, Any]) -> Subscription | None:
    """A teacher's plan checkout finished: mirror the subscription it made, read from Stripe."""
    subscription_id = object_id(session.get("subscription"))
    customer = _lock_customer(object_id(session.get("customer")))
    if not subscription_id or customer is None:
        return None
    return refresh_subscription(subscription_id)


# --- Invoices and failed payments ------------------------------------------------------------


@transaction.atomic
def apply_invoice(*, data: dict[str, Any], at: datetime, failed: bool = False) -> Invoice | None:
    """Mirror an invoice Stripe sent at `at`; `failed`: the event says a payment failed."""
    customer = _lock_customer(object_id(data.get("customer")))
    if customer is None:
        return None
    subscription = None
    subscription_id = _subscription_of_invoice(data)
    if subscription_id:
        subscription = _lock_subscription(subscription_id)
        if subscription is None and refresh_subscription(subscription_id) is not None:
            subscription = _lock_subscription(subscription_id)
    invoice = Invoice.objects.select_for_update().filter(stripe_invoice_id=data["id"]).first()
    if invoice is None:
        invoice = Invoice(
            stripe_invoice_id=data["id"], customer=customer, teacher_id=customer.teacher_id
        )
    if _is_news(invoice, data, at):
        _mirror_invoice(invoice, data, subscription)
        invoice.stripe_state_at = at.replace(microsecond=0)
        invoice.save(update_fields=INVOICE_FIELDS if invoice.pk else None)
    if subscription is not None:
        if failed:
            _record_failure(subscription, invoice, at.replace(microsecond=0))
        _clear_failure_if_paid(subscription)
    return invoice


def _subscription_of_invoice(data: dict[str, Any]) -> str:
    details = (data.get("parent") or {}).get("subscription_details") or {}
    return object_id(details.get("subscription") or data.get("subscription"))


def _is_news(invoice: Invoice, data: dict[str, Any], at: datetime) -> bool:
    if invoice.pk is None or invoice.stripe_state_at is None:
        return True
    at = at.replace(microsecond=0)
    if at != invoice.stripe_state_at:
        return at > invoice.stripe_state_at
    progress = INVOICE_PROGRESS.get(data.get("status") or "", 0)
    return progress >= INVOICE_PROGRESS.get(invoice.status, 0)


def _mirror_invoice(
    invoice: Invoice, data: dict[str, Any], subscription: Subscription | None
) -> None:
    lines = (data.get("lines") or {}).get("data") or []
    period = (lines[0].get("period") if lines else None) or {}
    transitions = data.get("status_transitions") or {}
    invoice.subscription = subscription
    invoice.number = data.get("number") or ""
    invoice.status = data.get("status") or ""
    invoice.billing_reason = data.get("billing_reason") or ""
    invoice.currency = str(data.get("currency") or "").upper()
    invoice.amount_due = int(data.get("amount_due") or 0)
    invoice.amount_paid = int(data.get("amount_paid") or 0)
    invoice.hosted_invoice_url = data.get("hosted_invoice_url") or ""
    invoice.invoice_pdf = data.get("invoice_pdf") or ""
    invoice.issued_at = _time(data.get("created")) or timezone.now()
    invoice.period_start = _time(period.get("start") or data.get("period_start"))
    invoice.period_end = _time(period.get("end") or data.get("period_end"))
    invoice.paid_at = _time(transitions.get("paid_at"))


def _last_payment(subscription: Subscription) -> datetime | None:
    return Invoice.objects.filter(subscription=subscription).aggregate(last=Max("paid_at"))["last"]


def _record_failure(subscription: Subscription, invoice: Invoice, at: datetime) -> None:
    """A payment failed at `at`: remember it and tell the teacher, unless it was paid since."""
    paid = _last_payment(subscription)
    if invoice.status in ("paid", "void") or (paid is not None and paid >= at):
        return
    if subscription.payment_failed_at is None or at > subscription.payment_failed_at:
        subscription.payment_failed_at = at
        subscription.save(update_fields=["payment_failed_at", "updated_at"])
    _email_payment_failed(subscription, invoice)


def _clear_failure_if_paid(subscription: Subscription) -> None:
    if subscription.payment_failed_at is None:
        return
    paid = _last_payment(subscription)
    if paid is not None and paid >= subscription.payment_failed_at:
        subscription.payment_failed_at = None
        subscription.save(update_fields=["payment_failed_at", "updated_at"])


def _email_payment_failed(subscription: Subscription, invoice: Invoice) -> None:
    teacher = subscription.teacher
    if teacher is None:
        return
    context = {
        "user": teacher,
        "plan": subscription.plan,
        "amount": format_money(invoice.amount_due, invoice.currency),
        "pay_url": invoice.hosted_invoice_url,
        "plan_url": _absolute(reverse("billing:plan")),
    }
    message = get_adapter().render_mail("billing/email/plan_payment_failed", teacher.email, context)
    outbox.enqueue_email(key=f"plan-payment-failed:{invoice.stripe_invoice_id}", message=message)


# --- Customers and their cards ---------------------------------------------------------------


@transaction.atomic
def customer_changed(*, customer_id: str, at: datetime) -> BillingCustomer | None:
    """The customer or one of their cards changed at `at`: read them again unless seen since."""
    customer = _lock_customer(customer_id)
    if customer is None:
        return None
    if (
        customer.stripe_state_at is not None
        and at.replace(microsecond=0) < customer.stripe_state_at
    ):
        return customer
    return _read_customer(customer)


@transaction.atomic
def refresh_customer(*, customer: BillingCustomer) -> BillingCustomer | None:
    """Read the customer's details and cards from Stripe now (back from the Customer Portal)."""
    locked = _lock_customer(customer.stripe_customer_id)
    return _read_customer(locked) if locked is not None else None


def card_changed(*, data: dict[str, Any], at: datetime) -> BillingCustomer | None:
    """A card was attached, changed or detached (a detached card names no customer)."""
    customer_id = object_id(data.get("customer"))
    if not customer_id:
        known = (
            PaymentMethod.objects.filter(stripe_payment_method_id=data.get("id"))
            .values_list("customer__stripe_customer_id", flat=True)
            .first()
        )
        customer_id = known or ""
    return customer_changed(customer_id=customer_id, at=at) if customer_id else None


def _read_customer(customer: BillingCustomer) -> BillingCustomer:
    data = client.retrieve_customer(customer.stripe_customer_id)
    if data.get("deleted"):
        return customer
    cards = client.list_cards(customer.stripe_customer_id)
    default = object_id((data.get("invoice_settings") or {}).get("default_payment_method"))
    stamp = _read_now(customer.stripe_state_at)
    customer.email = data.get("email") or ""
    customer.name = (data.get("name") or "")[:200]
    customer.stripe_state_at = stamp
    customer.save(update_fields=["email", "name", "stripe_state_at"])
    for card in cards:
        details = card.get("card") or {}
        PaymentMethod.objects.update_or_create(
            stripe_payment_method_id=card["id"],
            defaults={
                "customer": customer,
                "brand": (details.get("brand") or "")[:20],
                "last4": (details.get("last4") or "")[:4],
                "exp_month": details.get("exp_month"),
                "exp_year": details.get("exp_year"),
                "is_default": card["id"] == default,
                "stripe_state_at": stamp,
                "created_at": _time(card.get("created")) or timezone.now(),
            },
        )
    PaymentMethod.objects.filter(customer=customer).exclude(
        stripe_payment_method_id__in=[card["id"] for card in cards]
    ).delete()
    return customer
