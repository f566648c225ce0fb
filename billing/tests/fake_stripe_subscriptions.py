"""What Stripe does to teachers' subscriptions by itself, for the Stripe stand-in.

`SubscriptionLife` holds the customers, cards, subscriptions, schedules and
invoices of `fake_stripe_billing.BillingStripe` and changes them the way
Stripe does when a teacher pays on the hosted Checkout page, when a period
ends (a schedule's next phase, a renewal paid or declined), when a failed
payment is retried or given up, and when a plan is cancelled. Each change
records the events Stripe would send, in Stripe's order, with Stripe's shapes
(API 2025 and later: a subscription's period lives on its item, an invoice
names its subscription under `parent.subscription_details`).
"""

import copy
import itertools
import time
from collections.abc import Callable
from typing import Any

DAY = 86400
INTERVAL_SECONDS = {"day": DAY, "week": 7 * DAY, "month": 30 * DAY, "year": 365 * DAY}
LIVE_SCHEDULE = ("not_started", "active")


def unix_now() -> int:
    return int(time.time())


class SubscriptionLife:
    def __init__(self, *, new_id: Callable[[str], str], make_event: Callable[..., dict], url: str):
        self.new_id = new_id
        self.make_event = make_event
        self.url = url
        self.customers: dict[Any, dict[str, Any]] = {}
        self.products: dict[Any, dict[str, Any]] = {}
        self.prices: dict[Any, dict[str, Any]] = {}
        self.subscriptions: dict[Any, dict[str, Any]] = {}
        self.schedules: dict[Any, dict[str, Any]] = {}
        self.invoices: dict[Any, dict[str, Any]] = {}
        self.payment_methods: dict[Any, dict[str, Any]] = {}
        self.portal_sessions: dict[Any, dict[str, Any]] = {}
        self.emitted: list[dict[str, Any]] = []
        self._numbers = itertools.count(1)

    # --- Events ----------------------------------------------------------------------------

    def emit(self, type_: str, obj: dict[str, Any]) -> None:
        """Record the event Stripe sends about `obj` as it is now."""
        self.emitted.append(self.make_event(type_, obj))

    def take_events(self) -> list[dict[str, Any]]:
        """The events recorded since the last call, in the order Stripe made them."""
        taken, self.emitted = self.emitted, []
        return taken

    # --- Customers and cards ---------------------------------------------------------------

    def customer(self, params: dict[str, Any]) -> dict[str, Any]:
        customer = {
            "id": self.new_id("cus"),
            "object": "customer",
            "email": params.get("email"),
            "name": params.get("name"),
            "metadata": params.get("metadata") or {},
            "invoice_settings": {"default_payment_method": None},
            "created": unix_now(),
        }
        self.customers[customer["id"]] = customer
        self.emit("customer.created", customer)
        return customer

    def delete_customer(self, customer_id: str) -> dict[str, Any]:
        """Deleting a customer ends their subscriptions at once, as Stripe does."""
        for subscription in list(self.subscriptions.values()):
            if subscription["customer"] == customer_id and subscription["status"] != "canceled":
                self.cancel(subscription["id"])
        self.customers[customer_id]["deleted"] = True
        self.emit("customer.deleted", self.customers[customer_id])
        return {"id": customer_id, "object": "customer", "deleted": True}

    def add_card(
        self, customer_id: str, *, brand: str = "visa", last4: str = "4242", default: bool = False
    ) -> dict[str, Any]:
        card = {
            "id": self.new_id("pm"),
            "object": "payment_method",
            "type": "card",
            "customer": customer_id,
            "card": {"brand": brand, "last4": last4, "exp_month": 12, "exp_year": 2031},
            "created": unix_now(),
        }
        self.payment_methods[card["id"]] = card
        self.emit("payment_method.attached", card)
        if default:
            customer = self.customers[customer_id]
            customer["invoice_settings"]["default_payment_method"] = card["id"]
            self.emit("customer.updated", customer)
        return card

    def replace_card(self, customer_id: str, *, brand: str, last4: str) -> dict[str, Any]:
        """The teacher changes their card in the Customer Portal: the old one is detached."""
        old = [pm for pm in self.payment_methods.values() if pm["customer"] == customer_id]
        card = self.add_card(customer_id, brand=brand, last4=last4, default=True)
        for pm in old:
            pm["customer"] = None
            self.emit("payment_method.detached", pm)
            del self.payment_methods[pm["id"]]
        return card

    # --- Checkout in subscription mode -----------------------------------------------------

    def complete_checkout(self, session: dict[str, Any]) -> dict[str, Any]:
        """The teacher pays on the hosted page: a card, a subscription, its first invoice paid."""
        customer_id = session["customer"]
        card = self.add_card(customer_id)
        price = self.prices[session["line_items_price"]]
        now = unix_now()
        subscription = {
            "id": self.new_id("sub"),
            "object": "subscription",
            "customer": customer_id,
            "status": "incomplete",
            "currency": price["currency"],
            "cancel_at_period_end": False,
            "cancel_at": None,
            "canceled_at": None,
            "ended_at": None,
            "created": now,
            "start_date": now,
            "schedule": None,
            "default_payment_method": card["id"],
            "latest_invoice": None,
            "metadata": session["subscription_metadata"],
            "items": {"object": "list", "data": [self._item(price, now)]},
        }
        self.subscriptions[subscription["id"]] = subscription
        self.emit("customer.subscription.created", subscription)
        invoice = self._invoice(subscription, price["unit_amount"], "subscription_create")
        self._collect(invoice, pay=True)
        subscription["status"] = "active"
        self.emit("customer.subscription.updated", subscription)
        session.update(status="complete", payment_status="paid", subscription=subscription["id"])
        self.emit("checkout.session.completed", self.public_session(session))
        return subscription

    def public_session(self, session: dict[str, Any]) -> dict[str, Any]:
        """A Checkout Session as Stripe shows it, without what the stand-in keeps to itself."""
        hidden = ("payment_intent_data", "line_items_price", "subscription_metadata")
        return {k: v for k, v in session.items() if k not in hidden}

    def _item(self, price: dict[str, Any], start: int) -> dict[str, Any]:
        return {
            "id": self.new_id("si"),
            "object": "subscription_item",
            "price": copy.deepcopy(price),
            "quantity": 1,
            "current_period_start": start,
            "current_period_end": start + INTERVAL_SECONDS[price["recurring"]["interval"]],
        }

    # --- Invoices --------------------------------------------------------------------------

    def _invoice(self, subscription: dict[str, Any], amount: int, reason: str) -> dict[str, Any]:
        item = subscription["items"]["data"][0]
        invoice = {
            "id": self.new_id("in"),
            "object": "invoice",
            "customer": subscription["customer"],
            "number": None,
            "status": "draft",
            "billing_reason": reason,
            "currency": subscription["currency"],
            "amount_due": amount,
            "amount_paid": 0,
            "amount_remaining": amount,
            "attempt_count": 0,
            "hosted_invoice_url": None,
            "invoice_pdf": None,
            "created": unix_now(),
            "status_transitions": {"finalized_at": None, "paid_at": None, "voided_at": None},
            "parent": {
                "type": "subscription_details",
                "subscription_details": {"subscription": subscription["id"], "metadata": {}},
            },
            "lines": {
                "object": "list",
                "data": [
                    {
                        "amount": amount,
                        "period": {
                            "start": item["current_period_start"],
                            "end": item["current_period_end"],
                        },
                    }
                ],
            },
        }
        self.invoices[invoice["id"]] = invoice
        subscription["latest_invoice"] = invoice["id"]
        self.emit("invoice.created", invoice)
        number = next(self._numbers)
        invoice.update(
            status="open",
            number=f"LECT-{number:04d}",
            hosted_invoice_url=f"{self.url}/invoices/{invoice['id']}",
            invoice_pdf=f"{self.url}/invoices/{invoice['id']}.pdf",
        )
        invoice["status_transitions"]["finalized_at"] = unix_now()
        self.emit("invoice.finalized", invoice)
        return invoice

    def _collect(self, invoice: dict[str, Any], *, pay: bool) -> None:
        invoice["attempt_count"] += 1
        if not pay:
            self.emit("invoice.payment_failed", invoice)
            return
        invoice.update(status="paid", amount_paid=invoice["amount_due"], amount_remaining=0)
        invoice["status_transitions"]["paid_at"] = unix_now()
        self.emit("invoice.paid", invoice)
        self.emit("invoice.payment_succeeded", invoice)

    def retry(self, invoice_id: str, *, pay: bool = True) -> dict[str, Any]:
        """Stripe retries a failed payment; a success makes the subscription active again."""
        invoice = self.invoices[invoice_id]
        self._collect(invoice, pay=pay)
        subscription_id = invoice["parent"]["subscription_details"]["subscription"]
        subscription = self.subscriptions[subscription_id]
        if pay and subscription["status"] == "past_due":
            subscription["status"] = "active"
            self.emit("customer.subscription.updated", subscription)
        return invoice

    # --- Changing plan ---------------------------------------------------------------------

    def release(self, schedule_id: str) -> dict[str, Any]:
        schedule = self.schedules[schedule_id]
        subscription = self.subscriptions[schedule["subscription"]]
        schedule.update(
            status="released", released_subscription=subscription["id"], subscription=None
        )
        subscription["schedule"] = None
        self.emit("subscription_schedule.released", schedule)
        self.emit("customer.subscription.updated", subscription)
        return schedule

    # --- Time passing, and the Customer Portal ---------------------------------------------

    def renew(self, subscription_id: str, *, pay: bool = True) -> dict[str, Any]:
        """The period ends (move the clock there first): the next phase starts, or the plan ends.

        A subscription set to cancel ends; otherwise a schedule's next phase
        applies, a new period starts and its invoice is collected (`pay`
        False: the card is declined and the subscription goes past due).
        """
        subscription = self.subscriptions[subscription_id]
        if subscription["cancel_at_period_end"]:
            return self.cancel(subscription_id)
        item = subscription["items"]["data"][0]
        start = item["current_period_end"]
        schedule = self.schedules.get(subscription["schedule"])
        if schedule is not None:
            self._next_phase(schedule, subscription, start)
        interval = item["price"]["recurring"]["interval"]
        item.update(
            current_period_start=start, current_period_end=start + INTERVAL_SECONDS[interval]
        )
        invoice = self._invoice(subscription, item["price"]["unit_amount"], "subscription_cycle")
        self._collect(invoice, pay=pay)
        if not pay:
            subscription["status"] = "past_due"
        self.emit("customer.subscription.updated", subscription)
        return subscription

    def _next_phase(self, schedule: dict[str, Any], subscription: dict[str, Any], at: int) -> None:
        """Start the schedule's phase beginning at `at`; past its last phase, let the plan go on."""
        upcoming = [p for p in schedule["phases"] if p["start_date"] >= at]
        if upcoming:
            item = subscription["items"]["data"][0]
            item["price"] = copy.deepcopy(self.prices[upcoming[0]["items"][0]["price"]])
            phase = upcoming[0]
            schedule["current_phase"] = {
                "start_date": phase["start_date"],
                "end_date": phase["end_date"],
            }
            self.emit("subscription_schedule.updated", schedule)
            return
        schedule.update(
            status="completed", released_subscription=subscription["id"], subscription=None
        )
        subscription["schedule"] = None
        self.emit("subscription_schedule.completed", schedule)

    def give_up(self, subscription_id: str) -> dict[str, Any]:
        """Every retry failed: the open invoice is marked uncollectible and the plan ends."""
        subscription = self.subscriptions[subscription_id]
        invoice = self.invoices[subscription["latest_invoice"]]
        if invoice["status"] == "open":
            invoice["status"] = "uncollectible"
            self.emit("invoice.marked_uncollectible", invoice)
        return self.cancel(subscription_id)

    def cancel(self, subscription_id: str) -> dict[str, Any]:
        subscription = self.subscriptions[subscription_id]
        now = unix_now()
        subscription.update(status="canceled", canceled_at=now, ended_at=now)
        schedule = self.schedules.get(subscription["schedule"])
        if schedule is not None and schedule["status"] in LIVE_SCHEDULE:
            schedule["status"] = "canceled"
            self.emit("subscription_schedule.canceled", schedule)
        self.emit("customer.subscription.deleted", subscription)
        return copy.deepcopy(subscription)

    def cancel_at_period_end(self, subscription_id: str) -> dict[str, Any]:
        """The teacher cancels in the Customer Portal: the plan runs to the period's end."""
        subscription = self.subscriptions[subscription_id]
        subscription["cancel_at_period_end"] = True
        subscription["cancel_at"] = subscription["items"]["data"][0]["current_period_end"]
        self.emit("customer.subscription.updated", subscription)
        return subscription
