"""The plans side of the Stripe stand-in: its API for customers, the catalogue and subscriptions.

`FakeStripe` (fake_stripe.py) keeps a `BillingStripe` as `billing` and hands it
the requests it doesn't answer itself: customers and their cards, products,
prices, subscriptions, subscription schedules and Customer Portal sessions,
plus Checkout Sessions in subscription mode. What Stripe then does by itself
(a checkout paid, a period ending, a payment retried) is in
`fake_stripe_subscriptions`. Every change records the events Stripe would
send; a test takes them with `take_events()` and posts them (shuffled, twice...):

    stripe.billing.renew(sub_id, pay=False)      # the period ends, the card is declined
    stripe.billing.retry(invoice_id)             # Stripe's retry goes through
    events = stripe.billing.take_events()
"""

import copy
from collections.abc import Callable
from typing import Any

from billing.tests.fake_stripe_subscriptions import (
    DAY,
    INTERVAL_SECONDS,
    LIVE_SCHEDULE,
    SubscriptionLife,
    unix_now,
)

Answer = tuple[int, Any]


def error(status: int, message: str, code: str = "") -> Answer:
    body: dict[str, Any] = {"type": "invalid_request_error", "message": message}
    if code:
        body["code"] = code
    return status, {"error": body}


def _unknown(params: dict[str, Any], allowed: set[str]) -> Answer | None:
    """Stripe refuses parameters it doesn't know; so does the stand-in."""
    extra = sorted(set(params) - allowed - {"expand"})
    return error(400, f"Received unknown parameter: {extra[0]}") if extra else None


class BillingStripe(SubscriptionLife):
    # --- The API ---------------------------------------------------------------------------

    def route(self, method: str, parts: list[str], params: dict[str, Any]) -> Answer | None:
        """Answer a request about plans, or None when it is about something else."""
        head, rest = (parts[0], parts[1:]) if parts else ("", [])
        routes: dict[str, Callable[[str, list[str], dict[str, Any]], Answer | None]] = {
            "customers": self._customers,
            "products": self._products,
            "prices": self._prices,
            "subscriptions": self._subscriptions,
            "subscription_schedules": self._schedules,
            "billing_portal": self._portal,
        }
        handler = routes.get(head)
        return handler(method, rest, params) if handler else None

    def _customers(self, method: str, rest: list[str], params: dict[str, Any]) -> Answer | None:
        if not rest and method == "POST":
            return _unknown(params, {"email", "name", "metadata"}) or (200, self.customer(params))
        if not rest:
            return None
        customer = self.customers.get(rest[0])
        if customer is None or customer.get("deleted"):
            return error(404, f"No such customer: '{rest[0]}'", "resource_missing")
        if rest[1:] == ["payment_methods"]:
            cards = [pm for pm in self.payment_methods.values() if pm["customer"] == rest[0]]
            return 200, {"object": "list", "data": cards, "has_more": False}
        if method == "DELETE":
            return 200, self.delete_customer(rest[0])
        return 200, customer

    def _products(self, method: str, rest: list[str], params: dict[str, Any]) -> Answer | None:
        if not rest and method == "POST":
            refused = _unknown(params, {"name", "description", "metadata"})
            if refused:
                return refused
            product = {
                "id": self.new_id("prod"),
                "object": "product",
                "active": True,
                "name": params["name"],
                "description": params.get("description") or None,
                "metadata": params.get("metadata") or {},
            }
            self.products[product["id"]] = product
            return 200, product
        found = self.products.get(rest[0]) if rest else None
        if found is None:
            return error(404, f"No such product: '{rest[0] if rest else ''}'", "resource_missing")
        if method == "POST":
            refused = _unknown(params, {"name", "description"})
            if refused:
                return refused
            found.update(name=params["name"], description=params.get("description") or None)
        return 200, found

    def _prices(self, method: str, rest: list[str], params: dict[str, Any]) -> Answer | None:
        if not rest and method == "POST":
            allowed = {"product", "currency", "unit_amount", "recurring", "metadata"}
            refused = _unknown(params, allowed)
            if refused:
                return refused
            if params.get("product") not in self.products:
                return error(400, f"No such product: '{params.get('product')}'", "resource_missing")
            price = {
                "id": self.new_id("price"),
                "object": "price",
                "active": True,
                "product": params["product"],
                "currency": params["currency"],
                "unit_amount": int(params["unit_amount"]),
                "recurring": {"interval": params["recurring"]["interval"], "interval_count": 1},
                "type": "recurring",
                "metadata": params.get("metadata") or {},
            }
            self.prices[price["id"]] = price
            return 200, price
        found = self.prices.get(rest[0]) if rest else None
        if found is None:
            return error(404, f"No such price: '{rest[0] if rest else ''}'", "resource_missing")
        if method == "POST":
            refused = _unknown(params, {"active"})
            if refused:
                return refused
            found["active"] = params.get("active") == "true"
        return 200, found

    def _subscriptions(self, method: str, rest: list[str], params: dict[str, Any]) -> Answer | None:
        subscription = self.subscriptions.get(rest[0]) if len(rest) == 1 else None
        if subscription is None:
            return error(
                404, f"No such subscription: '{rest[0] if rest else ''}'", "resource_missing"
            )
        if method == "DELETE":
            if subscription["status"] == "canceled":
                return error(400, "This subscription has already been canceled.")
            return 200, self.cancel(subscription["id"])
        if method == "POST":
            allowed = {"items", "proration_behavior", "payment_behavior"}
            return _unknown(params, allowed) or self._change_price(subscription, params)
        return 200, self.expanded(subscription, params.get("expand") or [])

    def expanded(self, subscription: dict[str, Any], expand: list[str]) -> dict[str, Any]:
        public = copy.deepcopy(subscription)
        if "schedule" in expand and subscription["schedule"]:
            public["schedule"] = copy.deepcopy(self.schedules[subscription["schedule"]])
        return public

    def _schedules(self, method: str, rest: list[str], params: dict[str, Any]) -> Answer | None:
        if not rest and method == "POST":
            refused = _unknown(params, {"from_subscription"})
            return refused or self._schedule_from(params.get("from_subscription", ""))
        schedule = self.schedules.get(rest[0]) if rest else None
        if schedule is None:
            return error(404, f"No such subscription schedule: '{rest[0] if rest else ''}'")
        if method == "GET":
            return 200, schedule
        if schedule["status"] not in LIVE_SCHEDULE:
            return error(
                400, f"You cannot update a subscription schedule that is {schedule['status']}."
            )
        if rest[1:] == ["release"]:
            return 200, self.release(schedule["id"])
        refused = _unknown(params, {"phases", "end_behavior", "proration_behavior"})
        return refused or self._set_phases(schedule, params)

    def _portal(self, method: str, rest: list[str], params: dict[str, Any]) -> Answer | None:
        if rest != ["sessions"] or method != "POST":
            return None
        refused = _unknown(params, {"customer", "return_url", "flow_data"})
        if refused:
            return refused
        if params.get("customer") not in self.customers:
            return error(400, f"No such customer: '{params.get('customer')}'", "resource_missing")
        session = {
            "id": self.new_id("bps"),
            "object": "billing_portal.session",
            "customer": params["customer"],
            "return_url": params.get("return_url"),
            "flow": params.get("flow_data"),
            "created": unix_now(),
        }
        session["url"] = f"{self.url}/portal/{session['id']}"
        self.portal_sessions[session["id"]] = session
        return 200, session

    def checkout_session(self, params: dict[str, Any], session_id: str) -> Answer:
        allowed = {
            "mode", "customer", "line_items", "metadata", "subscription_data",
            "expires_at", "success_url", "cancel_url",
        }  # fmt: skip
        refused = _unknown(params, allowed)
        if refused:
            return refused
        if params.get("customer") not in self.customers:
            return error(400, f"No such customer: '{params.get('customer')}'", "resource_missing")
        item = params["line_items"][0]
        price = self.prices.get(item.get("price"))
        if price is None or not price["active"]:
            return error(400, f"No such price: '{item.get('price')}'", "resource_missing")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": "subscription",
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": price["unit_amount"],
            "currency": price["currency"],
            "customer": params["customer"],
            "client_reference_id": None,
            "metadata": params.get("metadata") or {},
            "subscription": None,
            "payment_intent": None,
            "line_items_price": price["id"],
            "subscription_metadata": (params.get("subscription_data") or {}).get("metadata") or {},
            "expires_at": int(params.get("expires_at") or unix_now() + DAY),
            "success_url": params["success_url"],
            "cancel_url": params["cancel_url"],
            "url": f"{self.url}/pay/{session_id}",
        }
        return 200, session

    def _change_price(self, subscription: dict[str, Any], params: dict[str, Any]) -> Answer:
        wanted = params["items"][0]
        item = subscription["items"]["data"][0]
        if wanted.get("id") != item["id"]:
            return error(400, f"No such subscription item: '{wanted.get('id')}'")
        price = self.prices.get(wanted.get("price"))
        if price is None:
            return error(400, f"No such price: '{wanted.get('price')}'", "resource_missing")
        if price["currency"] != subscription["currency"]:
            return error(400, "The price's currency must match the subscription's currency.")
        now = unix_now()
        old = item["price"]
        left = (
            max(0, item["current_period_end"] - now)
            / INTERVAL_SECONDS[old["recurring"]["interval"]]
        )
        item["price"] = copy.deepcopy(price)
        if price["recurring"]["interval"] != old["recurring"]["interval"]:
            item.update(current_period_start=now)
            item["current_period_end"] = now + INTERVAL_SECONDS[price["recurring"]["interval"]]
            owed = price["unit_amount"] - round(old["unit_amount"] * left)
        else:
            owed = round((price["unit_amount"] - old["unit_amount"]) * left)
        self.emit("customer.subscription.updated", subscription)
        if params.get("proration_behavior") == "always_invoice" and owed > 0:
            self._collect(self._invoice(subscription, owed, "subscription_update"), pay=True)
        return 200, copy.deepcopy(subscription)

    def _schedule_from(self, subscription_id: str) -> Answer:
        subscription = self.subscriptions.get(subscription_id)
        if subscription is None:
            return error(400, f"No such subscription: '{subscription_id}'", "resource_missing")
        if subscription["schedule"]:
            return error(
                400, "You cannot migrate a subscription that is already attached to a schedule."
            )
        item = subscription["items"]["data"][0]
        start, end = item["current_period_start"], item["current_period_end"]
        schedule = {
            "id": self.new_id("sub_sched"),
            "object": "subscription_schedule",
            "customer": subscription["customer"],
            "subscription": subscription_id,
            "released_subscription": None,
            "status": "active",
            "end_behavior": "release",
            "created": unix_now(),
            "current_phase": {"start_date": start, "end_date": end},
            "phases": [
                {
                    "start_date": start,
                    "end_date": end,
                    "items": [{"price": item["price"]["id"], "quantity": 1}],
                }
            ],
        }
        self.schedules[schedule["id"]] = schedule
        subscription["schedule"] = schedule["id"]
        self.emit("subscription_schedule.created", schedule)
        self.emit("customer.subscription.updated", subscription)
        return 200, schedule

    def _set_phases(self, schedule: dict[str, Any], params: dict[str, Any]) -> Answer:
        phases = params.get("phases") or []
        if (
            not phases
            or int(phases[0].get("start_date") or 0) != schedule["current_phase"]["start_date"]
        ):
            return error(400, "The first phase must start when the current phase started.")
        built, start = [], int(phases[0]["start_date"])
        for phase in phases:
            price = self.prices.get(phase["items"][0]["price"])
            if price is None:
                return error(400, f"No such price: '{phase['items'][0]['price']}'")
            if "end_date" in phase:
                end = int(phase["end_date"])
            else:
                end = start + INTERVAL_SECONDS[phase["duration"]["interval"]]
            built.append(
                {
                    "start_date": start,
                    "end_date": end,
                    "items": [{"price": price["id"], "quantity": 1}],
                }
            )
            start = end
        schedule.update(phases=built, end_behavior=params.get("end_behavior") or "release")
        self.emit("subscription_schedule.updated", schedule)
        return 200, schedule

    def portal_action(self, session_id: str, action: str) -> str:
        """What the portal page's buttons do; returns where the browser goes back to."""
        session = self.portal_sessions[session_id]
        customer_id = session["customer"]
        if action == "cancel":
            for subscription in self.subscriptions.values():
                if subscription["customer"] == customer_id and subscription["status"] != "canceled":
                    self.cancel_at_period_end(subscription["id"])
        elif action == "card":
            self.replace_card(customer_id, brand="mastercard", last4="4444")
        return str(session["return_url"])

    def portal_page(self, session_id: str) -> bytes:
        session = self.portal_sessions[session_id]
        return (
            "<!doctype html><title>Customer portal</title><h1>Test customer portal</h1>"
            f"<p>Customer {session['customer']}</p>"
            "<form method=post><button name=action value=card>Update card</button>"
            "<button name=action value=cancel>Cancel plan</button>"
            "<button name=action value=back>Return</button></form>"
        ).encode()
