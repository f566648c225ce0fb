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
    except stripe.CardError as error:
        raise PaymentServiceError(error.user_message or "The card was declined.") from error
    except (stripe.APIConnectionError, stripe.RateLimitError) as error:
        raise PaymentServiceError(
            "Stripe couldn't be reached just now. Please try again in a minute.", retryable=True
        ) from error
    except stripe.StripeError as error:
        retryable = (error.http_status or 500) >= 500
        message = error.user_message or "Stripe refused the request."
        raise PaymentServiceError(message, retryable=retryable) from error


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
