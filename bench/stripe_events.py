"""Stripe's events as it sends them, for the webhook benchmarks (bench/webhooks.py and
bench/webhook_worker.py): a course sale's events in the order Stripe sends them,
the fee and transfer of a destination charge, and connected accounts' updates.

Ids are shaped like Stripe's and unique per batch (`new_tag`); bodies carry
the fields Stripe's API version sends, so a payload is as large as a real one.
"""

import random
import string
from typing import Any

API_VERSION = "2025-10-29.clover"
PRICE = 4900  # a course's price, in cents
# One sale, as Stripe tells the platform about a destination charge made through Checkout.
SALE_EVENTS = (
    "payment_intent.created",
    "checkout.session.completed",
    "charge.succeeded",
    "payment_intent.succeeded",
    "charge.updated",
)
# What one sale sends in all: its events and the destination charge's fee and transfer.
SALE_TYPES = (*SALE_EVENTS, "application_fee.created", "transfer.created")


# --- Events as Stripe sends them ------------------------------------------------------------


def stripe_id(prefix: str, tag: str, n: int) -> str:
    """An id shaped like Stripe's: a prefix and 24 characters, unique per `tag` and `n`."""
    return f"{prefix}_{tag}{n:0{24 - len(tag)}d}"


def new_tag() -> str:
    """Ten characters that keep one batch's ids apart from every other batch's."""
    return "".join(random.choices(string.ascii_letters + string.digits, k=10))


def _address(n: int) -> dict[str, Any]:
    return {
        "city": "Lyon",
        "country": "FR",
        "line1": f"{n % 200 + 1} rue de la République",
        "line2": None,
        "postal_code": "69002",
        "state": None,
    }


def checkout_session(
    tag: str, n: int, *, purchase_id: int, amount: int, created: int
) -> dict[str, Any]:
    """A completed, paid Checkout Session for one course (payment mode, destination charge)."""
    session_id = f"cs_test_a1{tag}{n:050d}"
    return {
        "id": session_id,
        "object": "checkout.session",
        "adaptive_pricing": {"enabled": False},
        "after_expiration": None,
        "allow_promotion_codes": None,
        "amount_subtotal": amount,
        "amount_total": amount,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "billing_address_collection": None,
        "cancel_url": f"https://lectern.example/c/course-{n % 97}/",
        "client_reference_id": str(purchase_id),
        "client_secret": None,
        "collected_information": {"shipping_details": None},
        "consent": None,
        "consent_collection": None,
        "created": created - 120,
        "currency": "eur",
        "currency_conversion": None,
        "custom_fields": [],
        "custom_text": {
            "after_submit": None,
            "shipping_address": None,
            "submit": None,
            "terms_of_service_acceptance": None,
        },
        "customer": None,
        "customer_creation": "if_required",
        "customer_details": {
            "address": _address(n),
            "email": f"student{n}@example.com",
            "name": f"Camille Student {n}",
            "phone": None,
            "tax_exempt": "none",
            "tax_ids": [],
        },
        "customer_email": f"student{n}@example.com",
        "discounts": [],
        "expires_at": created + 1680,
        "invoice": None,
        "invoice_creation": {
            "enabled": False,
            "invoice_data": {
                "account_tax_ids": None,
                "custom_fields": None,
                "description": None,
                "footer": None,
                "issuer": None,
                "metadata": {},
                "rendering_options": None,
            },
        },
        "livemode": False,
        "locale": "auto",
        "metadata": {"purchase_id": str(purchase_id), "course": f"course-{n % 97}"},
        "mode": "payment",
        "payment_intent": stripe_id("pi", tag, n),
        "payment_link": None,
        "payment_method_collection": "if_required",
        "payment_method_configuration_details": None,
        "payment_method_options": {"card": {"request_three_d_secure": "automatic"}},
        "payment_method_types": ["card"],
        "payment_status": "paid",
        "permissions": None,
        "phone_number_collection": {"enabled": False},
        "recovered_from": None,
        "saved_payment_method_options": None,
        "setup_intent": None,
        "shipping_address_collection": None,
        "shipping_cost": None,
        "shipping_options": [],
        "status": "complete",
        "submit_type": "pay",
        "subscription": None,
        "success_url": (
            f"https://lectern.example/billing/return/{tag}{n}/?session_id={{CHECKOUT_SESSION_ID}}"
        ),
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": "hosted",
        "url": None,
        "wallet_options": None,
    }


def payment_intent(
    tag: str, n: int, *, purchase_id: int, amount: int, account: str, created: int, status: str
) -> dict[str, Any]:
    """The payment intent behind a Checkout Session, paying the teacher's account."""
    return {
        "id": stripe_id("pi", tag, n),
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": amount if status == "succeeded" else 0,
        "application": None,
        "application_fee_amount": amount * 5 // 100,
        "automatic_payment_methods": None,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic_async",
        "client_secret": f"{stripe_id('pi', tag, n)}_secret_{tag}{n:015d}",
        "confirmation_method": "automatic",
        "created": created - 60,
        "currency": "eur",
        "customer": None,
        "description": f"Course {n % 97}: eight live evenings",
        "last_payment_error": None,
        "latest_charge": stripe_id("ch", tag, n) if status == "succeeded" else None,
        "livemode": False,
        "metadata": {"purchase_id": str(purchase_id)},
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": stripe_id("pm", tag, n) if status == "succeeded" else None,
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {
                "installments": None,
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        "payment_method_types": ["card"],
        "processing": None,
        "receipt_email": f"student{n}@example.com",
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": status,
        "transfer_data": {"destination": account},
        "transfer_group": f"group_{stripe_id('pi', tag, n)}",
    }


def charge(
    tag: str, n: int, *, purchase_id: int, amount: int, account: str, created: int
) -> dict[str, Any]:
    """The card charge of a sale, with its outcome, card details and transfer."""
    return {
        "id": stripe_id("ch", tag, n),
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": 0,
        "application": None,
        "application_fee": stripe_id("fee", tag, n),
        "application_fee_amount": amount * 5 // 100,
        "balance_transaction": stripe_id("txn", tag, n),
        "billing_details": {
            "address": _address(n),
            "email": f"student{n}@example.com",
            "name": f"Camille Student {n}",
            "phone": None,
            "tax_id": None,
        },
        "calculated_statement_descriptor": "LECTERN",
        "captured": True,
        "created": created - 30,
        "currency": "eur",
        "customer": None,
        "description": f"Course {n % 97}: eight live evenings",
        "destination": account,
        "dispute": None,
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "fraud_details": {},
        "livemode": False,
        "metadata": {"purchase_id": str(purchase_id)},
        "on_behalf_of": None,
        "outcome": {
            "advice_code": None,
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "normal",
            "risk_score": n % 60,
            "seller_message": "Payment complete.",
            "type": "authorized",
        },
        "paid": True,
        "payment_intent": stripe_id("pi", tag, n),
        "payment_method": stripe_id("pm", tag, n),
        "payment_method_details": {
            "card": {
                "amount_authorized": amount,
                "authorization_code": f"{n % 1000000:06d}",
                "brand": "visa",
                "checks": {
                    "address_line1_check": None,
                    "address_postal_code_check": None,
                    "cvc_check": "pass",
                },
                "country": "FR",
                "exp_month": n % 12 + 1,
                "exp_year": 2030,
                "extended_authorization": {"status": "disabled"},
                "fingerprint": f"{tag}{n:06d}"[:16],
                "funding": "credit",
                "incremental_authorization": {"status": "unavailable"},
                "installments": None,
                "last4": f"{n % 10000:04d}",
                "mandate": None,
                "multicapture": {"status": "unavailable"},
                "network": "visa",
                "network_token": {"used": False},
                "network_transaction_id": f"{n:015d}",
                "overcapture": {"maximum_amount_capturable": amount, "status": "unavailable"},
                "regulated_status": "unregulated",
                "three_d_secure": None,
                "wallet": None,
            },
            "type": "card",
        },
        "radar_options": {},
        "receipt_email": f"student{n}@example.com",
        "receipt_number": None,
        "receipt_url": (
            f"https://pay.stripe.com/receipts/payment/{tag}{n:030d}?s=ap&t={created - 30}"
        ),
        "refunded": False,
        "review": None,
        "shipping": None,
        "source": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "succeeded",
        "transfer": stripe_id("tr", tag, n),
        "transfer_data": {"amount": None, "destination": account},
        "transfer_group": f"group_{stripe_id('pi', tag, n)}",
    }


def event(
    type_: str, obj: dict[str, Any], *, event_id: str, created: int, account: str = ""
) -> dict[str, Any]:
    """Wrap `obj` in an event as Stripe delivers it."""
    wrapped: dict[str, Any] = {
        "id": event_id,
        "object": "event",
        "api_version": API_VERSION,
        "created": created,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type_,
    }
    if account:
        wrapped["account"] = account
    return wrapped


def sale_event(
    tag: str, n: int, *, purchase_id: int, account: str, created: int, amount: int = 4900
) -> dict[str, Any]:
    """Event `n` of a stream of sales: each sale sends the types of SALE_EVENTS in turn."""
    sale, step = divmod(n, len(SALE_EVENTS))
    type_ = SALE_EVENTS[step]
    fields: dict[str, Any] = {
        "purchase_id": purchase_id,
        "amount": amount,
        "account": account,
        "created": created,
    }
    obj: dict[str, Any]
    if type_ == "checkout.session.completed":
        obj = checkout_session(tag, sale, purchase_id=purchase_id, amount=amount, created=created)
    elif type_.startswith("payment_intent."):
        status = "requires_payment_method" if type_ == "payment_intent.created" else "succeeded"
        obj = payment_intent(tag, sale, status=status, **fields)
    else:
        obj = charge(tag, sale, **fields)
    return event(type_, obj, event_id=stripe_id("evt", tag, n), created=created)


# --- Events of a stream of sales, and of unknown accounts -----------------------------------


def application_fee(tag: str, n: int, *, amount: int, account: str, created: int) -> dict[str, Any]:
    return {
        "id": stripe_id("fee", tag, n),
        "object": "application_fee",
        "account": account,
        "amount": amount * 5 // 100,
        "amount_refunded": 0,
        "application": "ca_" + tag + "LecternPlatform",
        "balance_transaction": stripe_id("txn", tag, n),
        "charge": stripe_id("py", tag, n),
        "created": created,
        "currency": "eur",
        "fee_source": {"charge": stripe_id("ch", tag, n), "type": "charge"},
        "livemode": False,
        "originating_transaction": stripe_id("ch", tag, n),
        "refunded": False,
        "refunds": {
            "object": "list",
            "data": [],
            "has_more": False,
            "total_count": 0,
            "url": f"/v1/application_fees/{stripe_id('fee', tag, n)}/refunds",
        },
    }


def transfer(tag: str, n: int, *, amount: int, account: str, created: int) -> dict[str, Any]:
    return {
        "id": stripe_id("tr", tag, n),
        "object": "transfer",
        "amount": amount,
        "amount_reversed": 0,
        "balance_transaction": stripe_id("txn", tag, n),
        "created": created,
        "currency": "eur",
        "description": None,
        "destination": account,
        "destination_payment": stripe_id("py", tag, n),
        "livemode": False,
        "metadata": {},
        "reversals": {
            "object": "list",
            "data": [],
            "has_more": False,
            "total_count": 0,
            "url": f"/v1/transfers/{stripe_id('tr', tag, n)}/reversals",
        },
        "reversed": False,
        "source_transaction": stripe_id("ch", tag, n),
        "source_type": "card",
        "transfer_group": f"group_{stripe_id('pi', tag, n)}",
    }


def express_account(account_id: str, n: int, created: int) -> dict[str, Any]:
    """An Express account part-way through onboarding, as `account.updated` carries it."""
    due = ["external_account", "individual.dob.day", "individual.verification.document"]
    return {
        "id": account_id,
        "object": "account",
        "business_profile": {
            "mcc": "8299",
            "name": None,
            "product_description": "Live online courses",
            "support_email": None,
            "url": f"https://lectern.example/t/teacher-{n}/",
        },
        "business_type": "individual",
        "capabilities": {"card_payments": "inactive", "transfers": "inactive"},
        "charges_enabled": False,
        "controller": {
            "fees": {"payer": "application"},
            "is_controller": True,
            "losses": {"payments": "application"},
            "requirement_collection": "stripe",
            "stripe_dashboard": {"type": "express"},
            "type": "application",
        },
        "country": "FR",
        "created": created - 86400,
        "default_currency": "eur",
        "details_submitted": False,
        "email": f"teacher{n}@example.com",
        "external_accounts": {
            "object": "list",
            "data": [],
            "has_more": False,
            "total_count": 0,
            "url": f"/v1/accounts/{account_id}/external_accounts",
        },
        "future_requirements": {
            "alternatives": [],
            "current_deadline": None,
            "currently_due": [],
            "disabled_reason": None,
            "errors": [],
            "eventually_due": [],
            "past_due": [],
            "pending_verification": [],
        },
        "metadata": {},
        "payouts_enabled": False,
        "requirements": {
            "alternatives": [],
            "current_deadline": created + 14 * 86400,
            "currently_due": due,
            "disabled_reason": "requirements.past_due",
            "errors": [],
            "eventually_due": due,
            "past_due": due,
            "pending_verification": [],
        },
        "settings": {
            "payouts": {
                "debit_negative_balances": True,
                "schedule": {"delay_days": 7, "interval": "daily"},
                "statement_descriptor": None,
            },
        },
        "tos_acceptance": {"date": None},
        "type": "express",
    }


def event_mix(
    tag: str, purchases: list[int], total: int, *, account: str, created: int
) -> list[tuple[str, dict[str, Any]]]:
    """Return (source, event) pairs: each purchase's seven sale events, then unknown accounts'.

    The `account.updated` events are spread evenly between the sales, as they
    arrive; everything is in the order it would be delivered.
    """
    per_sale = len(SALE_TYPES)
    sales = len(purchases) * per_sale
    if sales > total:
        raise ValueError(f"{len(purchases)} sales make {sales} events, more than {total}")
    others = total - sales
    out: list[tuple[str, dict[str, Any]]] = []
    spread = others / max(sales, 1)
    owed = 0.0
    made = 0
    for k, purchase_id in enumerate(purchases):
        for step, type_ in enumerate(SALE_TYPES):
            n = k * per_sale + step
            at = created + n
            if step < len(SALE_EVENTS):
                data = sale_event(
                    tag,
                    k * len(SALE_EVENTS) + step,
                    purchase_id=purchase_id,
                    account=account,
                    created=at,
                    amount=PRICE,
                )
                data["id"] = stripe_id("evt", tag, n)
            else:
                make = application_fee if type_ == "application_fee.created" else transfer
                obj = make(tag, k, amount=PRICE, account=account, created=at)
                data = event(type_, obj, event_id=stripe_id("evt", tag, n), created=at)
            out.append(("platform", data))
            owed += spread
            while owed >= 1 and made < others:
                out.append(("connect", _unknown_account_event(tag, sales + made, at)))
                owed -= 1
                made += 1
    while made < others:
        out.append(("connect", _unknown_account_event(tag, sales + made, created + sales + made)))
        made += 1
    return out


def _unknown_account_event(tag: str, n: int, at: int) -> dict[str, Any]:
    account = stripe_id("acct", tag, n)
    return event(
        "account.updated",
        express_account(account, n, at),
        event_id=stripe_id("evt", tag, n),
        created=at,
        account=account,
    )
