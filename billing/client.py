"""Every call Lectern makes to Stripe, and the only module that imports the SDK.

Answers come back as plain dicts (`to_dict()`), so nothing above this module
handles a `StripeObject`. Every create carries an idempotency key derived from
our own records (a purchase id and an action), so a retried task or a form
sent twice replays the first call instead of making a second session or
refund. Errors become `PaymentServiceError` with words a person can read.

`STRIPE_API_BASE` points the SDK at a Stripe-compatible server (stripe-mock,
or the tests' local stand-in); unset, it talks to Stripe itself.
"""

import functools
import json
from typing import Any

import stripe
from django.conf import settings


class PaymentServiceError(Exception):
    """Stripe refused or couldn't be reached; `message` is fit to show a teacher or student."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


class BadSignatureError(Exception):
    """A webhook whose signature, secret or timestamp doesn't check out."""


def configured() -> bool:
    """Say whether payments are on: a secret key is set."""
    return bool(settings.STRIPE_SECRET_KEY)


@functools.cache
def _client(key: str, api_base: str) -> stripe.StripeClient:
    bases: Any = {"api": api_base.rstrip("/")} if api_base else None
    return stripe.StripeClient(key, base_addresses=bases, max_network_retries=2)


def client() -> stripe.StripeClient:
    if not configured():
        raise PaymentServiceError("Payments aren't set up on this server.")
    return _client(settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE)


def _call(action: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    try:
        return action(*args, **kwargs).to_dict()
    except stripe.StripeError as error:
        raise _refusal(error) from error


def _refusal(error: stripe.StripeError) -> PaymentServiceError:
    if isinstance(error, stripe.CardError):
        return PaymentServiceError(error.user_message or "The card was declined.")
    if isinstance(error, (stripe.APIConnectionError, stripe.RateLimitError)):
        return PaymentServiceError(
            "Stripe couldn't be reached just now. Please try again in a minute.", retryable=True
        )
    retryable = (error.http_status or 500) >= 500
    return PaymentServiceError(
        error.user_message or "Stripe refused the request.", retryable=retryable
    )


def _options(idempotency_key: str | None = None, account: str | None = None) -> Any:
    options: dict[str, str] = {}
    if idempotency_key:
        options["idempotency_key"] = idempotency_key
    if account:
        options["stripe_account"] = account
    return options


# --- Connect accounts ----------------------------------------------------------------------


def create_express_account(*, country: str, email: str, idempotency_key: str) -> dict[str, Any]:
    params: Any = {
        "type": "express",
        "country": country,
        "email": email,
        "capabilities": {"card_payments": {"requested": True}, "transfers": {"requested": True}},
    }
    return _call(client().v1.accounts.create, params, _options(idempotency_key))


def retrieve_account(account_id: str) -> dict[str, Any]:
    return _call(client().v1.accounts.retrieve, account_id)


def create_account_link(*, account_id: str, refresh_url: str, return_url: str) -> str:
    params: Any = {
        "account": account_id,
        "refresh_url": refresh_url,
        "return_url": return_url,
        "type": "account_onboarding",
    }
    return str(_call(client().v1.account_links.create, params)["url"])


def create_login_link(account_id: str) -> str:
    return str(_call(client().v1.accounts.login_links.create, account_id)["url"])


# --- Checkout and payments -----------------------------------------------------------------


def create_checkout_session(params: dict[str, Any], *, idempotency_key: str) -> dict[str, Any]:
    return _call(client().v1.checkout.sessions.create, params, _options(idempotency_key))


def retrieve_checkout_session(session_id: str) -> dict[str, Any]:
    params: Any = {"expand": ["payment_intent.latest_charge"]}
    return _call(client().v1.checkout.sessions.retrieve, session_id, params)


def expire_checkout_session(session_id: str) -> dict[str, Any]:
    return _call(client().v1.checkout.sessions.expire, session_id)


def retrieve_payment_intent(payment_intent_id: str) -> dict[str, Any]:
    params: Any = {"expand": ["latest_charge"]}
    return _call(client().v1.payment_intents.retrieve, payment_intent_id, params)


def create_refund(
    *, payment_intent_id: str, amount: int, idempotency_key: str, metadata: dict[str, str]
) -> dict[str, Any]:
    params: Any = {
        "payment_intent": payment_intent_id,
        "amount": amount,
        # A destination charge: take the money back from the teacher's account,
        # and give back the platform's fee in proportion.
        "reverse_transfer": True,
        "refund_application_fee": True,
        "metadata": metadata,
    }
    return _call(client().v1.refunds.create, params, _options(idempotency_key))


def retrieve_balance(account_id: str) -> dict[str, Any]:
    """The connected account's balance: what is available and what is on its way."""
    return _call(client().v1.balance.retrieve, None, _options(account=account_id))


# --- Plans: the catalogue at Stripe ----------------------------------------------------------
# Lectern's own products and prices, on the platform account (no Stripe-Account header).


def create_product(
    *, name: str, description: str, metadata: dict[str, str], idempotency_key: str
) -> dict[str, Any]:
    params: Any = {"name": name, "metadata": metadata}
    if description:
        params["description"] = description
    return _call(client().v1.products.create, params, _options(idempotency_key))


def update_product(product_id: str, *, name: str, description: str) -> dict[str, Any]:
    # "" unsets a description at Stripe; None would be dropped from the request.
    params: Any = {"name": name, "description": description}
    return _call(client().v1.products.update, product_id, params)


def create_price(
    *,
    product_id: str,
    currency: str,
    amount: int,
    interval: str,
    metadata: dict[str, str],
    idempotency_key: str,
) -> dict[str, Any]:
    params: Any = {
        "product": product_id,
        "currency": currency.lower(),
        "unit_amount": amount,
        "recurring": {"interval": interval},
        "metadata": metadata,
    }
    return _call(client().v1.prices.create, params, _options(idempotency_key))


def retrieve_price(price_id: str) -> dict[str, Any]:
    return _call(client().v1.prices.retrieve, price_id)


def deactivate_price(price_id: str) -> dict[str, Any]:
    """Stop offering a price: prices can't change at Stripe, and subscribers keep theirs."""
    params: Any = {"active": False}
    return _call(client().v1.prices.update, price_id, params)


# --- Plans: teachers' customers and subscriptions -------------------------------------------


def create_customer(
    *, email: str, name: str, metadata: dict[str, str], idempotency_key: str
) -> dict[str, Any]:
    params: Any = {"email": email, "name": name, "metadata": metadata}
    return _call(client().v1.customers.create, params, _options(idempotency_key))


def retrieve_customer(customer_id: str) -> dict[str, Any]:
    return _call(client().v1.customers.retrieve, customer_id)


def list_cards(customer_id: str) -> list[dict[str, Any]]:
    """The customer's cards (at most 100: a teacher has one or two)."""
    params: Any = {"type": "card", "limit": 100}
    found = _call(client().v1.customers.payment_methods.list, customer_id, params)
    return list(found.get("data") or [])


def delete_customer(customer_id: str) -> dict[str, Any]:
    """Delete the customer; one Stripe no longer has counts as deleted already."""
    try:
        return client().v1.customers.delete(customer_id).to_dict()
    except stripe.InvalidRequestError as error:
        if error.code == "resource_missing":
            return {"id": customer_id, "object": "customer", "deleted": True}
        raise _refusal(error) from error
    except stripe.StripeError as error:
        raise _refusal(error) from error


def create_subscription_checkout(
    *,
    customer_id: str,
    price_id: str,
    metadata: dict[str, str],
    success_url: str,
    cancel_url: str,
    expires_at: int,
    idempotency_key: str,
) -> dict[str, Any]:
    """A Checkout Session that subscribes the customer to one price."""
    params: Any = {
        "mode": "subscription",
        "customer": customer_id,
        "line_items": [{"price": price_id, "quantity": 1}],
        "metadata": metadata,
        "subscription_data": {"metadata": metadata},
        "expires_at": expires_at,
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    return _call(client().v1.checkout.sessions.create, params, _options(idempotency_key))


def retrieve_subscription(subscription_id: str) -> dict[str, Any]:
    """The subscription with its schedule expanded: a pending change lives in its phases."""
    params: Any = {"expand": ["schedule"]}
    return _call(client().v1.subscriptions.retrieve, subscription_id, params)


def change_subscription_price(
    *, subscription_id: str, item_id: str, price_id: str
) -> dict[str, Any]:
    """Move the subscription to another price now, invoicing the prorated difference at once.

    With `pending_if_incomplete` the change only takes effect once that invoice
    is paid: a declined card leaves the teacher on the plan they had.
    """
    params: Any = {
        "items": [{"id": item_id, "price": price_id}],
        "proration_behavior": "always_invoice",
        "payment_behavior": "pending_if_incomplete",
    }
    return _call(client().v1.subscriptions.update, subscription_id, params)


def cancel_subscription(subscription_id: str) -> dict[str, Any]:
    """End the subscription now: no further invoice, no refund of the period paid."""
    return _call(client().v1.subscriptions.cancel, subscription_id)


def create_schedule(*, subscription_id: str, idempotency_key: str) -> dict[str, Any]:
    """Put the subscription under a schedule whose one phase is the current period."""
    params: Any = {"from_subscription": subscription_id}
    return _call(client().v1.subscription_schedules.create, params, _options(idempotency_key))


def retrieve_schedule(schedule_id: str) -> dict[str, Any]:
    return _call(client().v1.subscription_schedules.retrieve, schedule_id)


def schedule_price_change(
    *, schedule_id: str, current: dict[str, Any], price_id: str, interval: str
) -> dict[str, Any]:
    """Keep the current phase as it is and switch to `price_id` when it ends.

    `current` is the phase running now (its price, start and end); the new
    phase lasts one `interval`, after which the schedule lets the subscription
    go on by itself at the new price.
    """
    params: Any = {
        "end_behavior": "release",
        "proration_behavior": "none",
        "phases": [
            {
                "items": [{"price": current["price"], "quantity": 1}],
                "start_date": current["start_date"],
                "end_date": current["end_date"],
            },
            {
                "items": [{"price": price_id, "quantity": 1}],
                "duration": {"interval": interval, "interval_count": 1},
                "proration_behavior": "none",
            },
        ],
    }
    return _call(client().v1.subscription_schedules.update, schedule_id, params)


def release_schedule(schedule_id: str) -> dict[str, Any]:
    """Detach the schedule: the subscription goes on as it is now, the planned change dropped."""
    return _call(client().v1.subscription_schedules.release, schedule_id)


def create_portal_session(
    *, customer_id: str, return_url: str, flow: dict[str, Any] | None = None
) -> str:
    """A Customer Portal link (cards, cancelling, invoices); `flow` opens one task directly."""
    params: Any = {"customer": customer_id, "return_url": return_url}
    if flow:
        params["flow_data"] = flow
    return str(_call(client().v1.billing_portal.sessions.create, params)["url"])


# --- Webhooks ------------------------------------------------------------------------------


def verify_event(payload: str, signature: str, secret: str) -> dict[str, Any]:
    """Check a webhook's signature and timestamp with the SDK and return the event as a dict.

    The body is parsed as plain JSON once the signature holds: building the
    SDK's objects for it (`Webhook.construct_event`) cost several times the
    check itself, for a dict the caller wants anyway.
    """
    if not secret:
        raise BadSignatureError("No webhook secret is configured.")
    try:
        stripe.WebhookSignature.verify_header(
            payload, signature, secret, stripe.Webhook.DEFAULT_TOLERANCE
        )
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, ValueError) as error:
        raise BadSignatureError(str(error)) from error
    if not isinstance(event, dict):
        raise BadSignatureError("The body is not an event.")
    return event
