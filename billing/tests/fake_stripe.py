"""A local stand-in for Stripe's API at the HTTP edge, and signed webhook events.

The real SDK talks to it (`STRIPE_API_BASE`), so requests are built, encoded
and answered exactly as with Stripe: form-encoded parameters with brackets,
idempotency keys, errors as Stripe shapes them. It keeps a little state — the
Express accounts, Checkout Sessions, payments and refunds made through it —
and serves the pages a browser can follow: the end of onboarding (back to the
return URL, the account enabled), a Checkout page whose "Pay" button
completes the session and goes back to the success URL (a teacher's plan
checkout makes the subscription), and the Customer Portal. Teachers' plans
(customers, prices, subscriptions, invoices) are kept by `billing`, a
`fake_stripe_billing.BillingStripe`.

    with FakeStripe() as stripe, override_settings(STRIPE_API_BASE=stripe.url):
        ...
        event = stripe.event("checkout.session.completed", stripe.sessions[sid])
        post_event(client, event)                           # signed with the SDK

Every request is recorded in `calls` (method, path, params, headers).
"""

import itertools
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import stripe
from django.conf import settings
from django.test import SimpleTestCase, override_settings
from django.urls import reverse

from billing.tests.fake_stripe_billing import BillingStripe

_ids = itertools.count(1)


def new_id(prefix: str) -> str:
    return f"{prefix}_test_{next(_ids):06d}{int(time.time() * 1000) % 100000:05d}"


def parse_form(body: str) -> dict[str, Any]:
    """Turn Stripe's bracketed form encoding back into nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _listify(root)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if node and all(k.isdigit() for k in node):
        return [_listify(node[k]) for k in sorted(node, key=int)]
    return {k: _listify(v) for k, v in node.items()}


class FakeStripe:
    def __init__(self) -> None:
        # Keyed by Stripe id; `Any` keys let a test index with a model's optional id field.
        self.accounts: dict[Any, dict[str, Any]] = {}
        self.sessions: dict[Any, dict[str, Any]] = {}
        self.intents: dict[Any, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        # Connected account id -> its available balance in minor units (/v1/balance).
        self.balances: dict[str, int] = {}
        self.current_account = ""
        self.calls: list[dict[str, Any]] = []
        self.idempotent: dict[str, tuple[int, dict[str, Any]]] = {}
        # path -> the error answered once (`fail_next`) or until removed (`failing`).
        self.fail_next: dict[str, tuple[int, dict[str, Any]]] = {}
        self.failing: dict[str, tuple[int, dict[str, Any]]] = {}
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        # Plans: customers, products, prices, subscriptions, invoices (fake_stripe_billing.py).
        self.billing = BillingStripe(new_id=new_id, make_event=self.event, url=self.url)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "FakeStripe":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- State changes a test (or the fake's pages) makes ------------------------------------

    def enable(self, account_id: str) -> dict[str, Any]:
        """Finish onboarding: charges and payouts on, nothing due."""
        account = self.accounts[account_id]
        account.update(
            charges_enabled=True,
            payouts_enabled=True,
            details_submitted=True,
            requirements={"currently_due": [], "past_due": [], "disabled_reason": None},
        )
        return account

    def pay(self, session_id: str | None, *, settles_later: bool = False) -> dict[str, Any]:
        """The buyer pays: the session completes with a payment intent and a charge."""
        session = self.sessions[session_id]
        intent_id, charge_id = new_id("pi"), new_id("ch")
        metadata = (session.get("payment_intent_data") or {}).get("metadata") or {}
        charge = {
            "id": charge_id,
            "object": "charge",
            "amount": session["amount_total"],
            "amount_refunded": 0,
            "currency": session["currency"],
            "paid": not settles_later,
            "status": "pending" if settles_later else "succeeded",
            "payment_intent": intent_id,
            "metadata": metadata,
            "receipt_url": f"{self.url}/receipts/{charge_id}",
            "refunds": {"object": "list", "data": []},
            "created": int(time.time()),
        }
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": session["amount_total"],
            "currency": session["currency"],
            "status": "processing" if settles_later else "succeeded",
            "metadata": metadata,
            "latest_charge": charge_id,
        }
        self.charges[charge_id] = charge
        self.intents[intent_id] = intent
        session.update(
            status="complete",
            payment_status="unpaid" if settles_later else "paid",
            payment_intent=intent_id,
        )
        return session

    def decline(
        self, session_id: str | None, decline_code: str = "generic_decline"
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The buyer's card is declined: a failed charge on the session's payment intent.

        The session stays open (the buyer may try another card), as Stripe's
        does. Return (charge, intent) for `charge.failed` and
        `payment_intent.payment_failed`, which Stripe both sends.
        """
        session = self.sessions[session_id]
        data = session.get("payment_intent_data") or {}
        metadata = data.get("metadata") or {}
        destination = (data.get("transfer_data") or {}).get("destination")
        intent = self.intents.get(session.get("payment_intent"))
        if intent is None:
            intent = {
                "id": new_id("pi"),
                "object": "payment_intent",
                "amount": session["amount_total"],
                "currency": session["currency"],
                "metadata": metadata,
                "transfer_data": {"destination": destination},
            }
            self.intents[intent["id"]] = intent
            session["payment_intent"] = intent["id"]
        charge_id = new_id("ch")
        charge = {
            "id": charge_id,
            "object": "charge",
            "amount": session["amount_total"],
            "currency": session["currency"],
            "paid": False,
            "status": "failed",
            "failure_code": "card_declined",
            "failure_message": "Your card was declined.",
            "outcome": {"type": "issuer_declined", "reason": decline_code},
            "payment_intent": intent["id"],
            "metadata": metadata,
            "transfer_data": {"destination": destination},
            "created": int(time.time()),
        }
        self.charges[charge_id] = charge
        intent.update(
            status="requires_payment_method",
            latest_charge=charge_id,
            last_payment_error={
                "type": "card_error",
                "code": "card_declined",
                "decline_code": decline_code,
                "charge": charge_id,
                "message": "Your card was declined.",
            },
        )
        return charge, intent

    def settle(self, session_id: str | None) -> dict[str, Any]:
        """A payment that settles later goes through."""
        session = self.sessions[session_id]
        intent = self.intents[session["payment_intent"]]
        intent["status"] = "succeeded"
        charge = self.charges[intent["latest_charge"]]
        charge.update(paid=True, status="succeeded")
        session["payment_status"] = "paid"
        return session

    def expire(self, session_id: str | None) -> dict[str, Any]:
        session = self.sessions[session_id]
        if session["status"] == "open":
            session["status"] = "expired"
        return session

    def refund(self, charge_id: str, amount: int, metadata: dict | None = None) -> dict[str, Any]:
        charge = self.charges[charge_id]
        refund = {
            "id": new_id("re"),
            "object": "refund",
            "amount": amount,
            "currency": charge["currency"],
            "status": "succeeded",
            "charge": charge_id,
            "payment_intent": charge["payment_intent"],
            "metadata": metadata or {},
            "created": int(time.time()),
        }
        self.refunds[refund["id"]] = refund
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
        charge["refunds"]["data"].append(refund)
        return refund

    def session_of_purchase(self, purchase_id: int) -> dict[str, Any]:
        return next(
            s for s in self.sessions.values() if s["client_reference_id"] == str(purchase_id)
        )

    # --- Events --------------------------------------------------------------------------

    def event(
        self, type_: str, obj: dict[str, Any], *, account: str = "", created: int | None = None
    ) -> dict[str, Any]:
        """An event as Stripe sends it, about a copy of `obj` as it is now."""
        event = {
            "id": new_id("evt"),
            "object": "event",
            "type": type_,
            "api_version": "2025-10-29",
            "created": created if created is not None else int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "data": {"object": json.loads(json.dumps(self._expanded(obj)))},
        }
        if account:
            event["account"] = account
        return event

    def _expanded(self, obj: dict[str, Any]) -> dict[str, Any]:
        return obj

    # --- The HTTP side -------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._serve(self, "GET")

            def do_POST(self) -> None:
                fake._serve(self, "POST")

            def do_DELETE(self) -> None:
                fake._serve(self, "DELETE")

        return Handler

    def _serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length).decode() if length else ""
        params = parse_form(body if method == "POST" else url.query)
        with self.lock:
            self.calls.append(
                {
                    "method": method,
                    "path": url.path,
                    "params": params,
                    "headers": dict(handler.headers.items()),
                }
            )
            if url.path.startswith("/v1/"):
                status, payload = self._api(method, url.path, params, handler.headers)
                self._json(handler, status, payload)
                return
            self._page(handler, method, url.path, params)

    def _json(self, handler: BaseHTTPRequestHandler, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("Request-Id", new_id("req"))
        handler.end_headers()
        handler.wfile.write(data)

    def _api(self, method: str, path: str, params: dict[str, Any], headers: Any) -> tuple[int, Any]:
        if path in self.fail_next:
            return self.fail_next.pop(path)
        if path in self.failing:
            return self.failing[path]
        self.current_account = headers.get("Stripe-Account") or ""
        key = headers.get("Idempotency-Key")
        if method == "POST" and key and key in self.idempotent:
            return self.idempotent[key]
        answer = self._route(method, path, params)
        if method == "POST" and key and answer[0] < 500:
            self.idempotent[key] = answer
        return answer

    def _route(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, Any]:
        parts = path.strip("/").split("/")[1:]
        if parts == ["accounts"] and method == "POST":
            account = {
                "id": new_id("acct"),
                "object": "account",
                "type": "express",
                "country": params.get("country", "US"),
                "email": params.get("email"),
                "default_currency": "eur" if params.get("country") != "US" else "usd",
                "charges_enabled": False,
                "payouts_enabled": False,
                "details_submitted": False,
                "business_profile": {"name": None},
                "requirements": {
                    "currently_due": ["external_account", "individual.dob.day"],
                    "past_due": [],
                    "disabled_reason": "requirements.past_due",
                },
            }
            self.accounts[account["id"]] = account
            return 200, account
        if len(parts) == 2 and parts[0] == "accounts" and method == "GET":
            return self._found(self.accounts, parts[1])
        if len(parts) == 3 and parts[0] == "accounts" and parts[2] == "login_links":
            return 200, {"object": "login_link", "url": f"{self.url}/express/{parts[1]}"}
        if parts == ["account_links"]:
            query = f"return={params['return_url']}&refresh={params['refresh_url']}"
            return 200, {
                "object": "account_link",
                "url": f"{self.url}/onboarding/{params['account']}?{query}",
                "expires_at": int(time.time()) + 300,
            }
        if parts == ["checkout", "sessions"] and method == "POST":
            if params.get("mode") == "subscription":
                return self._create_subscription_session(params)
            return self._create_session(params)
        if len(parts) == 3 and parts[:2] == ["checkout", "sessions"]:
            status, session = self._found(self.sessions, parts[2])
            if status != 200:
                return status, session
            return 200, self._expand_session(session, params.get("expand") or [])
        if len(parts) == 4 and parts[3] == "expire":
            if parts[2] not in self.sessions:
                return self._found(self.sessions, parts[2])
            if self.sessions[parts[2]]["status"] != "open":
                return self._error(400, "Only Checkout Sessions that are open can be expired.")
            return 200, self._public(self.expire(parts[2]))
        if len(parts) == 2 and parts[0] == "payment_intents":
            status, intent = self._found(self.intents, parts[1])
            if status == 200 and "latest_charge" in (params.get("expand") or []):
                intent = {**intent, "latest_charge": self.charges[intent["latest_charge"]]}
            return status, intent
        if parts == ["refunds"] and method == "POST":
            intent = self.intents.get(params.get("payment_intent", ""))
            if intent is None:
                return self._error(404, "No such payment_intent")
            charge = self.charges[intent["latest_charge"]]
            amount = int(params.get("amount") or charge["amount"] - charge["amount_refunded"])
            if amount > charge["amount"] - charge["amount_refunded"]:
                return self._error(400, "Refund amount is greater than unrefunded amount")
            return 200, self.refund(charge["id"], amount, params.get("metadata"))
        if parts == ["balance"]:
            held = self.balances.get(self.current_account, 0)
            return 200, {
                "object": "balance",
                "available": [{"amount": held, "currency": "eur"}],
                "pending": [{"amount": 0, "currency": "eur"}],
            }
        answer = self.billing.route(method, parts, params)
        if answer is not None:
            return answer
        return self._error(404, f"Unrecognized request URL ({method}: {path})")

    def _create_session(self, params: dict[str, Any]) -> tuple[int, Any]:
        item = params["line_items"][0]
        price = item["price_data"]
        destination = params["payment_intent_data"]["transfer_data"]["destination"]
        account = self.accounts.get(destination)
        if account is None or not account["charges_enabled"]:
            return self._error(400, "The destination account can't receive transfers.")
        session_id = new_id("cs")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": params["mode"],
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": int(price["unit_amount"]) * int(item["quantity"]),
            "currency": price["currency"],
            "customer_email": params.get("customer_email"),
            "client_reference_id": params.get("client_reference_id"),
            "metadata": params.get("metadata") or {},
            "payment_intent": None,
            "payment_intent_data": params["payment_intent_data"],
            "expires_at": int(params.get("expires_at") or time.time() + 86400),
            "success_url": params["success_url"],
            "cancel_url": params["cancel_url"],
            "url": f"{self.url}/pay/{session_id}",
        }
        self.sessions[session_id] = session
        return 200, self._public(session)

    def _create_subscription_session(self, params: dict[str, Any]) -> tuple[int, Any]:
        status, session = self.billing.checkout_session(params, new_id("cs"))
        if status == 200:
            self.sessions[session["id"]] = session
            session = self._public(session)
        return status, session

    def _public(self, session: dict[str, Any]) -> dict[str, Any]:
        return self.billing.public_session(session)

    def _expand_session(self, session: dict[str, Any], expand: list[str]) -> dict[str, Any]:
        public = self._public(session)
        intent_id = session.get("payment_intent")
        if intent_id and any(e.startswith("payment_intent") for e in expand):
            intent = dict(self.intents[intent_id])
            if "payment_intent.latest_charge" in expand:
                intent["latest_charge"] = self.charges[intent["latest_charge"]]
            public["payment_intent"] = intent
        return public

    def expanded_session(self, session_id: str) -> dict[str, Any]:
        """The session as a webhook carries it (the payment intent as an id)."""
        return self._public(self.sessions[session_id])

    def _found(self, table: dict[str, Any], key: str) -> tuple[int, Any]:
        if key in table:
            return 200, table[key]
        return self._error(404, f"No such object: '{key}'")

    def _error(self, status: int, message: str) -> tuple[int, Any]:
        return status, {"error": {"type": "invalid_request_error", "message": message}}

    def _page(
        self, handler: BaseHTTPRequestHandler, method: str, path: str, params: dict[str, Any]
    ) -> None:
        parts = path.strip("/").split("/")
        if parts[0] == "onboarding" and len(parts) == 2 and parts[1] in self.accounts:
            self.enable(parts[1])
            return self._redirect(handler, params["return"])
        if parts[0] == "pay" and len(parts) == 2 and parts[1] in self.sessions:
            session = self.sessions[parts[1]]
            if method == "POST":
                if session["mode"] == "subscription":
                    self.billing.complete_checkout(session)
                else:
                    self.pay(parts[1])
                target = session["success_url"].replace("{CHECKOUT_SESSION_ID}", parts[1])
                return self._redirect(handler, target)
            amount = session["amount_total"]
            html = (
                "<!doctype html><title>Checkout</title><h1>Test checkout</h1>"
                f"<p>Amount: {amount} {session['currency']}</p>"
                f"<form method=post><button type=submit>Pay</button></form>"
            ).encode()
            handler.send_response(200)
            handler.send_header("Content-Type", "text/html")
            handler.send_header("Content-Length", str(len(html)))
            handler.end_headers()
            handler.wfile.write(html)
            return None
        if parts[0] == "portal" and len(parts) == 2 and parts[1] in self.billing.portal_sessions:
            if method == "POST":
                return self._redirect(
                    handler, self.billing.portal_action(parts[1], params["action"])
                )
            html = self.billing.portal_page(parts[1])
            handler.send_response(200)
            handler.send_header("Content-Type", "text/html")
            handler.send_header("Content-Length", str(len(html)))
            handler.end_headers()
            handler.wfile.write(html)
            return None
        handler.send_response(404)
        handler.end_headers()
        return None

    def _redirect(self, handler: BaseHTTPRequestHandler, location: str) -> None:
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()


def signed(event: dict[str, Any], secret: str | None = None, at: int | None = None) -> tuple:
    """Return (body, Stripe-Signature header) for `event`, signed as Stripe does."""
    body = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(
        body, secret or settings.STRIPE_WEBHOOK_SECRET, timestamp=at or int(time.time())
    )
    return body, header


def post_event(client: Any, event: dict[str, Any], *, connect: bool = False, **kw: Any) -> Any:
    """POST a signed event to our webhook endpoint, as Stripe would."""
    secret = settings.STRIPE_CONNECT_WEBHOOK_SECRET if connect else settings.STRIPE_WEBHOOK_SECRET
    body, header = signed(event, kw.pop("secret", None) or secret, kw.pop("at", None))
    name = "billing:stripe_connect_webhook" if connect else "billing:stripe_webhook"
    return client.post(
        reverse(name), data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )


def serve_for(test: SimpleTestCase) -> FakeStripe:
    """Start a stand-in for `test`, point every Stripe call at it, and undo both when it ends."""
    fake = FakeStripe().__enter__()
    test.addCleanup(fake.__exit__)
    overrides = override_settings(STRIPE_API_BASE=fake.url)
    overrides.enable()
    test.addCleanup(overrides.disable)
    return fake
