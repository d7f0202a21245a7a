"""A local stand-in for the Stripe API, served over HTTP to the real `stripe` library.

It answers the few endpoints the gateway uses with the JSON Stripe returns, enforces the
rules that matter to us (idempotency keys, card declines, refundable amounts, who owns a
saved card) and records every request. It never talks to the network.
"""

import contextlib
import itertools
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest
import stripe
from stripe._http_client import HTTPClient

#: Stripe's test payment methods: id → (brand, last4, declines).
TEST_CARDS = {
    "pm_card_visa": ("visa", "4242", False),
    "pm_card_mastercard": ("mastercard", "4444", False),
    "pm_card_chargeDeclined": ("visa", "0002", True),
    # Off-session confirmation asks for 3-D Secure: the customer must authenticate in the browser.
    "pm_card_authenticationRequired": ("visa", "3184", "3ds"),
}
RETURN_URL_REQUIRED = (
    "A `return_url` must be specified because this Payment Intent is configured to automatically accept the "
    "payment methods enabled in the Dashboard, some of which may require a full page redirect to succeed. If you "
    "do not want to accept redirect-based payment methods, set `automatic_payment_methods[enabled]` to `true` and "
    "`automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents and Payment Intents."
)
KNOWN_PARAMS = {
    "customers": {"email", "name", "metadata", "phone", "description"},
    "payment_intents": {
        "amount",
        "currency",
        "customer",
        "metadata",
        "setup_future_usage",
        "payment_method",
        "confirm",
        "automatic_payment_methods",
        "payment_method_types",
        "return_url",
        "receipt_email",
        "description",
        "off_session",
    },
    "refunds": {"payment_intent", "amount", "reason", "metadata"},
}


class StripeError(Exception):
    def __init__(self, status, type_, message, **fields):
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": type_, "message": message, **fields}}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    params: dict
    idempotency_key: str | None
    authorization: str | None


def decode_form(pairs):
    """Stripe's form encoding (metadata[order_id]=7, items[0][x]=…) back into nested dicts."""
    params = {}
    for key, value in pairs:
        head, *rest = re.findall(r"[^\[\]]+", key)
        target, name = params, head
        for part in rest:
            target = target.setdefault(name, {})
            name = part
        target[name] = value
    return params


#: The keys the tests give the application next to the fake server's secret key and address.
PUBLISHABLE_KEY = "pk_test_4as_fake"
WEBHOOK_SECRET = "whsec_4as_fake"


class FakeStripe:
    """The fake account's objects, the requests received and the failure knobs."""

    def __init__(self, secret_key):
        self.secret_key = secret_key
        self.url = None
        self.requests = []
        self.fail_next = 0  # the next N requests answer 500 before reaching the API
        # "pending": new refunds wait, like bank transfers, until `settle_refund` gives their outcome.
        self.refund_status = "succeeded"
        self.customers, self.intents, self.methods, self.refunds = {}, {}, {}, {}
        self.disputes = {}
        self._replays = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def app_config(self):
        """The settings that point the application's Stripe gateway at this server."""
        return {
            "STRIPE_SECRET_KEY": self.secret_key,
            "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_API_BASE": self.url,
        }

    # What tests inspect and arrange

    def sent(self, method, path):
        """The recorded requests to one endpoint, retries included."""
        return [r for r in self.requests if (r.method, r.path) == (method, path)]

    def add_card(self, customer_id, card="pm_card_visa", exp=(12, 2034)):
        """A card saved on a customer, as Payment Element leaves it after setup_future_usage."""
        return self._card(card, customer_id, exp)["id"]

    def pay_in_browser(self, intent_id, card="pm_card_visa"):
        """What Stripe.js does when the customer confirms the Payment Element."""
        intent = self.intents[intent_id]
        method = self._card(card, None)
        # Stripe.js shows a decline in the page; the intent keeps it as last_payment_error.
        with self._lock, contextlib.suppress(StripeError):
            self._confirm(intent, method)
        return intent

    def event(self, event_type, intent_id):
        """A Stripe event about a PaymentIntent, as the webhook receives it."""
        return {
            "id": self._id("evt"),
            "object": "event",
            "api_version": "2026-10-28.endive",
            "created": int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "type": event_type,
            "data": {"object": dict(self.intents[intent_id])},
        }

    def event_about(self, event_type, obj):
        """A Stripe event carrying any object (a Charge, a Refund, a Dispute) as data.object."""
        return {
            "id": self._id("evt"),
            "object": "event",
            "api_version": "2026-10-28.endive",
            "created": int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "type": event_type,
            "data": {"object": _public(obj)},
        }

    def refund_event(self, refund_id, event_type="charge.refund.updated"):
        """`charge.refund.updated` (or `refund.updated`) with the refund as it is now."""
        return self.event_about(event_type, self.refunds[refund_id])

    def charge_refunded_event(self, intent_id, with_refunds=True):
        """`charge.refunded`: the intent's Charge, listing its refunds (older API versions) or not (newer)."""
        charge = self.charge(intent_id)
        if not with_refunds:
            del charge["refunds"]
        return self.event_about("charge.refunded", charge)

    def dispute_event(self, dispute_id, event_type="charge.dispute.created"):
        return self.event_about(event_type, self.disputes[dispute_id])

    @staticmethod
    def sign(event, secret):
        """The payload and Stripe-Signature header of an event, as the webhook receives them."""
        payload = json.dumps(event).encode()
        header = stripe.WebhookSignature.generate_signature_header(payload.decode(), secret)
        return payload, header

    def paid_intent(self, amount, metadata=None):
        """A PaymentIntent paid by card (as if through Stripe.js), for orders made without checkout."""
        intent = self.create_intent({"amount": str(amount), "currency": "cad", "metadata": metadata or {}})
        self._confirm(intent, self._card("pm_card_visa", None))
        return intent["id"]

    def settle_refund(self, refund_id, status, failure_reason=None):
        """What the bank answers, days later, about a pending refund."""
        refund = self.refunds[refund_id]
        refund.update(status=status, failure_reason=failure_reason if status == "failed" else None)
        return refund

    def dashboard_refund(self, intent_id, amount=None, status="succeeded"):
        """A refund made by someone in Stripe's dashboard (no metadata of ours)."""
        refund = self._refund(self.retrieve_intent(intent_id), amount, {})
        refund["status"] = status
        return refund

    def charge(self, intent_id):
        """The Charge of a paid intent, with the refunds listed as older API versions sent them."""
        intent = self.retrieve_intent(intent_id)
        refunds = [_public(r) for r in self.refunds.values() if r["payment_intent"] == intent_id]
        refunded = sum(r["amount"] for r in refunds if r["status"] in ("pending", "succeeded"))
        return {
            "id": intent["latest_charge"],
            "object": "charge",
            "amount": intent["amount"],
            "amount_captured": intent["amount"],
            "amount_refunded": refunded,
            "currency": intent["currency"],
            "customer": intent["customer"],
            "metadata": intent["metadata"],
            "paid": True,
            "payment_intent": intent_id,
            "refunded": refunded == intent["amount"],
            "status": "succeeded",
            "refunds": {
                "object": "list",
                "data": list(reversed(refunds)),
                "has_more": False,
                "url": f"/v1/charges/{intent['latest_charge']}/refunds",
            },
        }

    def open_dispute(self, intent_id, reason="fraudulent", status="needs_response", with_payment_intent=True):
        """The cardholder contests the charge with their bank."""
        intent = self.retrieve_intent(intent_id)
        dispute = {
            "id": self._id("du"),
            "object": "dispute",
            "amount": intent["amount"],
            "charge": intent["latest_charge"],
            "created": int(time.time()),
            "currency": intent["currency"],
            "evidence_details": {"due_by": int(time.time()) + 7 * 86400, "has_evidence": False},
            "is_charge_refundable": False,
            "livemode": False,
            "metadata": {},
            "payment_intent": intent_id if with_payment_intent else None,
            "reason": reason,
            "status": status,
        }
        self.disputes[dispute["id"]] = dispute
        return dispute

    # Objects

    def _id(self, prefix):
        return f"{prefix}_{next(self._ids):04d}{secrets.token_hex(6)}"

    def _card(self, card, customer_id, exp=(12, 2034)):
        if card not in TEST_CARDS:
            raise StripeError(
                400,
                "invalid_request_error",
                f"No such PaymentMethod: '{card}'",
                code="resource_missing",
                param="payment_method",
            )
        brand, last4, declines = TEST_CARDS[card]
        method = {
            "id": self._id("pm"),
            "object": "payment_method",
            "allow_redisplay": "unspecified",
            "billing_details": {
                "address": {
                    "city": None,
                    "country": None,
                    "line1": None,
                    "line2": None,
                    "postal_code": None,
                    "state": None,
                },
                "email": None,
                "name": None,
                "phone": None,
            },
            "card": {
                "brand": brand,
                "checks": {"address_line1_check": None, "address_postal_code_check": None, "cvc_check": "pass"},
                "country": "US",
                "display_brand": brand,
                "exp_month": exp[0],
                "exp_year": exp[1],
                "fingerprint": secrets.token_hex(8),
                "funding": "credit",
                "last4": last4,
                "networks": {"available": [brand], "preferred": None},
                "three_d_secure_usage": {"supported": True},
                "wallet": None,
            },
            "created": int(time.time()),
            "customer": customer_id,
            "livemode": False,
            "metadata": {},
            "type": "card",
            "_declines": declines,
        }
        self.methods[method["id"]] = method
        return method

    def _method_for(self, pm_id, customer_id):
        if pm_id in TEST_CARDS:
            return self._card(pm_id, None)
        method = self.methods.get(pm_id)
        if method is None:
            raise StripeError(
                400,
                "invalid_request_error",
                f"No such PaymentMethod: '{pm_id}'",
                code="resource_missing",
                param="payment_method",
            )
        if method["customer"] and method["customer"] != customer_id:
            raise StripeError(
                400,
                "invalid_request_error",
                "The provided PaymentMethod belongs to a different Customer.",
                param="payment_method",
            )
        return method

    def _confirm(self, intent, method):
        if method["_declines"] == "3ds":
            intent.update(
                status="requires_action",
                payment_method=method["id"],
                next_action={"type": "use_stripe_sdk", "use_stripe_sdk": {"type": "three_d_secure_redirect"}},
            )
            return
        if method["_declines"]:
            error = {
                "type": "card_error",
                "code": "card_declined",
                "decline_code": "generic_decline",
                "message": "Your card was declined.",
                "doc_url": "https://stripe.com/docs/error-codes/card-declined",
                "payment_method": _public(method),
            }
            intent.update(status="requires_payment_method", payment_method=None, last_payment_error=error)
            raise StripeError(
                402,
                "card_error",
                error["message"],
                code="card_declined",
                decline_code="generic_decline",
                payment_intent=_public(intent),
                payment_method=_public(method),
            )
        intent.update(
            status="succeeded",
            payment_method=method["id"],
            amount_received=intent["amount"],
            last_payment_error=None,
            latest_charge=self._id("ch"),
        )
        if intent["setup_future_usage"] and intent["customer"] and not method["customer"]:
            method["customer"] = intent["customer"]

    # Endpoints

    def create_customer(self, params):
        customer = {
            "id": self._id("cus"),
            "object": "customer",
            "address": None,
            "balance": 0,
            "created": int(time.time()),
            "currency": None,
            "default_source": None,
            "delinquent": False,
            "description": params.get("description"),
            "email": params.get("email"),
            "invoice_prefix": secrets.token_hex(4).upper(),
            "invoice_settings": {
                "custom_fields": None,
                "default_payment_method": None,
                "footer": None,
                "rendering_options": None,
            },
            "livemode": False,
            "metadata": params.get("metadata", {}),
            "name": params.get("name"),
            "phone": params.get("phone"),
            "preferred_locales": [],
            "shipping": None,
            "tax_exempt": "none",
            "test_clock": None,
        }
        self.customers[customer["id"]] = customer
        return customer

    def create_intent(self, params):
        for name in ("amount", "currency"):
            if name not in params:
                raise StripeError(
                    400,
                    "invalid_request_error",
                    f"Missing required param: {name}.",
                    code="parameter_missing",
                    param=name,
                )
        if not params["amount"].isdigit() or int(params["amount"]) < 50:
            raise StripeError(
                400,
                "invalid_request_error",
                "Amount must be at least $0.50 cad",
                code="amount_too_small",
                param="amount",
            )
        customer = params.get("customer")
        if customer and customer not in self.customers:
            raise StripeError(
                400,
                "invalid_request_error",
                f"No such customer: '{customer}'",
                code="resource_missing",
                param="customer",
            )
        automatic = params.get("automatic_payment_methods")
        if automatic is None and "payment_method_types" not in params:
            automatic = {"enabled": "true"}  # the default since API version 2023-08-16
        intent_id = self._id("pi")
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": int(params["amount"]),
            "amount_capturable": 0,
            "amount_received": 0,
            "application": None,
            "automatic_payment_methods": automatic
            and {"enabled": True, "allow_redirects": automatic.get("allow_redirects", "always")},
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": "automatic_async",
            "client_secret": f"{intent_id}_secret_{secrets.token_hex(12)}",
            "confirmation_method": "automatic",
            "created": int(time.time()),
            "currency": params["currency"],
            "customer": customer,
            "description": params.get("description"),
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": params.get("metadata", {}),
            "next_action": None,
            "payment_method": None,
            "payment_method_types": ["card"],
            "receipt_email": None,
            "setup_future_usage": params.get("setup_future_usage"),
            "status": "requires_payment_method",
        }
        if params.get("payment_method"):
            method = self._method_for(params["payment_method"], customer)
            intent.update(payment_method=method["id"], status="requires_confirmation")
        if params.get("confirm") == "true":
            if not intent["payment_method"]:
                raise StripeError(
                    400,
                    "invalid_request_error",
                    "You must provide a payment_method to confirm.",
                    code="payment_intent_unexpected_state",
                    param="payment_method",
                )
            redirects = (intent["automatic_payment_methods"] or {}).get("allow_redirects") == "always"
            if redirects and not params.get("return_url"):
                raise StripeError(400, "invalid_request_error", RETURN_URL_REQUIRED, param="return_url")
            self.intents[intent_id] = intent
            self._confirm(intent, self.methods[intent["payment_method"]])
        self.intents[intent_id] = intent
        return intent

    def retrieve_intent(self, intent_id):
        if intent_id not in self.intents:
            raise StripeError(
                404,
                "invalid_request_error",
                f"No such payment_intent: '{intent_id}'",
                code="resource_missing",
                param="intent",
            )
        return self.intents[intent_id]

    def cancel_intent(self, intent_id):
        intent = self.retrieve_intent(intent_id)
        if intent["status"] in ("succeeded", "canceled", "processing"):
            raise StripeError(
                400,
                "invalid_request_error",
                f"You cannot cancel this PaymentIntent because it has a status of {intent['status']}.",
                code="payment_intent_unexpected_state",
            )
        intent.update(status="canceled", canceled_at=int(time.time()), cancellation_reason="abandoned")
        return intent

    def list_intents(self, query):
        """Newest first, `limit` a page, `starting_after` the last id of the previous page (Stripe's paging)."""
        created = query.get("created", {})
        since = int(created["gte"]) if isinstance(created, dict) and "gte" in created else 0
        found = [i for i in reversed(self.intents.values()) if i["created"] >= since]
        if query.get("starting_after"):
            ids = [i["id"] for i in found]
            found = found[ids.index(query["starting_after"]) + 1 :]
        limit = int(query.get("limit", 10))
        return {
            "object": "list",
            "data": [_public(i) for i in found[:limit]],
            "has_more": len(found) > limit,
            "url": "/v1/payment_intents",
        }

    def list_refunds(self, query):
        data = [r for r in reversed(self.refunds.values()) if r["payment_intent"] == query.get("payment_intent")]
        return {"object": "list", "data": [_public(r) for r in data], "has_more": False, "url": "/v1/refunds"}

    def retrieve_charge(self, charge_id):
        for intent in self.intents.values():
            if intent["latest_charge"] == charge_id:
                return self.charge(intent["id"])
        raise StripeError(404, "invalid_request_error", f"No such charge: '{charge_id}'", code="resource_missing")

    def list_methods(self, query):
        data = [
            m
            for m in self.methods.values()
            if m["customer"] and m["customer"] == query.get("customer") and m["type"] == query.get("type", "card")
        ]
        return {
            "object": "list",
            "data": [_public(m) for m in reversed(data)],
            "has_more": False,
            "url": "/v1/payment_methods",
        }

    def retrieve_method(self, pm_id):
        if pm_id not in self.methods:
            raise StripeError(
                404,
                "invalid_request_error",
                f"No such PaymentMethod: '{pm_id}'",
                code="resource_missing",
                param="payment_method",
            )
        return self.methods[pm_id]

    def detach_method(self, pm_id):
        """The card leaves its customer; a customer whose default it was has no default any more."""
        method = self.retrieve_method(pm_id)
        if not method["customer"]:
            raise StripeError(
                400,
                "invalid_request_error",
                "The payment method you provided is not attached to a customer so detachment is impossible.",
                code="payment_method_unexpected_state",
            )
        settings = self.customers[method["customer"]]["invoice_settings"]
        if settings["default_payment_method"] == pm_id:
            settings["default_payment_method"] = None
        method["customer"] = None
        return method

    def retrieve_customer(self, customer_id):
        if customer_id not in self.customers:
            raise StripeError(
                404,
                "invalid_request_error",
                f"No such customer: '{customer_id}'",
                code="resource_missing",
                param="id",
            )
        return self.customers[customer_id]

    def update_customer(self, customer_id, params):
        customer = self.retrieve_customer(customer_id)
        unknown = set(params) - KNOWN_PARAMS["customers"] - {"invoice_settings"}
        unknown |= {f"invoice_settings[{k}]" for k in params.get("invoice_settings", {})} - {
            "invoice_settings[default_payment_method]"
        }
        if unknown:
            name = sorted(unknown)[0]
            raise StripeError(400, "invalid_request_error", f"Received unknown parameter: {name}", param=name)
        default = params.get("invoice_settings", {}).get("default_payment_method")
        if default:
            method = self.methods.get(default)
            if method is None or method["customer"] != customer_id:
                raise StripeError(
                    400,
                    "invalid_request_error",
                    f"The customer does not have a payment method with the ID {default}. "
                    "The payment method must be attached to the customer.",
                    code="resource_missing",
                    param="invoice_settings[default_payment_method]",
                )
        if "invoice_settings" in params:
            customer["invoice_settings"]["default_payment_method"] = default or None
        for name in ("email", "name", "phone", "description", "metadata"):
            if name in params:
                customer[name] = params[name]
        return customer

    def create_refund(self, params):
        intent = self.retrieve_intent(params.get("payment_intent", ""))
        if intent["status"] != "succeeded":
            raise StripeError(
                400, "invalid_request_error", "This PaymentIntent does not have a successful charge to refund."
            )
        refund = self._refund(intent, params.get("amount"), params.get("metadata", {}), self.refund_status)
        refund["reason"] = params.get("reason")
        return refund

    def _refund(self, intent, amount, metadata, status="succeeded"):
        refunded = sum(
            r["amount"]
            for r in self.refunds.values()
            if r["payment_intent"] == intent["id"] and r["status"] in ("pending", "succeeded")
        )
        remaining = intent["amount"] - refunded
        amount = int(remaining if amount is None else amount)
        if remaining == 0:
            raise StripeError(
                400,
                "invalid_request_error",
                f"Charge {intent['latest_charge']} has already been refunded.",
                code="charge_already_refunded",
            )
        if amount > remaining:
            raise StripeError(
                400,
                "invalid_request_error",
                f"Refund amount (${amount / 100:.2f}) is greater than "
                f"unrefunded amount on charge (${remaining / 100:.2f})",
                param="amount",
            )
        refund = {
            "id": self._id("re"),
            "object": "refund",
            "amount": amount,
            "balance_transaction": self._id("txn"),
            "charge": intent["latest_charge"],
            "created": int(time.time()),
            "currency": intent["currency"],
            "destination_details": {"card": {"type": "refund"}, "type": "card"},
            "failure_reason": None,
            "metadata": metadata,
            "payment_intent": intent["id"],
            "reason": None,
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": status,
            "transfer_reversal": None,
        }
        self.refunds[refund["id"]] = refund
        return refund

    # HTTP

    def handle(self, request):
        """(status, body, replayed) for a recorded request."""
        with self._lock:
            self.requests.append(request)
            if self.fail_next:
                # An outage in front of the API: nothing executes, so nothing is saved for the key.
                self.fail_next -= 1
                return 500, {"error": {"type": "api_error", "message": "An unknown error occurred"}}, False
            if request.authorization != f"Bearer {self.secret_key}":
                return (
                    401,
                    {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided: sk_test_****"}},
                    False,
                )
            key = request.idempotency_key if request.method == "POST" else None
            if key in self._replays:
                path, params, status, body = self._replays[key]
                if (path, params) != (request.path, request.params):
                    return (
                        400,
                        {
                            "error": {
                                "type": "idempotency_error",
                                "message": (
                                    "Keys for idempotent requests can only be used with the same parameters "
                                    f"they were first used with. Try using a key other than '{key}' "
                                    "if you meant to execute a different request."
                                ),
                            }
                        },
                        False,
                    )
                return status, body, True
            try:
                status, body = 200, _public(self._route(request))
            except StripeError as exc:
                status, body = exc.status, exc.body
            if key:
                self._replays[key] = (request.path, request.params, status, body)
            return status, body, False

    def _route(self, request):
        parts = request.path.strip("/").split("/")
        if request.method == "POST" and len(parts) == 2 and parts[1] in KNOWN_PARAMS:
            unknown = set(request.params) - KNOWN_PARAMS[parts[1]]
            if unknown:
                name = sorted(unknown)[0]
                raise StripeError(400, "invalid_request_error", f"Received unknown parameter: {name}", param=name)
            return {
                "customers": self.create_customer,
                "payment_intents": self.create_intent,
                "refunds": self.create_refund,
            }[parts[1]](request.params)
        if request.method == "POST" and parts[1:2] == ["payment_intents"] and parts[3:] == ["cancel"]:
            return self.cancel_intent(parts[2])
        if request.method == "GET" and parts[1:2] == ["payment_intents"] and len(parts) == 3:
            return self.retrieve_intent(parts[2])
        if request.method == "GET" and parts[1:] == ["payment_intents"]:
            return self.list_intents(request.params)
        if request.method == "GET" and parts[1:] == ["refunds"]:
            return self.list_refunds(request.params)
        if request.method == "GET" and parts[1:2] == ["charges"] and len(parts) == 3:
            return self.retrieve_charge(parts[2])
        if request.method == "GET" and parts[1:] == ["payment_methods"]:
            return self.list_methods(request.params)
        if request.method == "GET" and parts[1:2] == ["payment_methods"] and len(parts) == 3:
            return self.retrieve_method(parts[2])
        if request.method == "POST" and parts[1:2] == ["payment_methods"] and parts[3:] == ["detach"]:
            return self.detach_method(parts[2])
        if request.method == "GET" and parts[1:2] == ["customers"] and len(parts) == 3:
            return self.retrieve_customer(parts[2])
        if request.method == "POST" and parts[1:2] == ["customers"] and len(parts) == 3:
            return self.update_customer(parts[2], request.params)
        raise StripeError(404, "invalid_request_error", f"Unrecognized request URL ({request.method}: {request.path}).")


def _public(obj):
    """The object as Stripe shows it (without the fake's private fields)."""
    return {k: v for k, v in obj.items() if not k.startswith("_")}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self):
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        form = self.rfile.read(length).decode() if length else ""
        # The library sends a POST's parameters in the body and a GET's in the query string.
        params = decode_form(parse_qsl(form if self.command == "POST" else url.query, keep_blank_values=True))
        request = Request(
            self.command, url.path, params, self.headers.get("Idempotency-Key"), self.headers.get("Authorization")
        )
        status, body, replayed = self.server.fake.handle(request)
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Request-Id", f"req_{secrets.token_hex(7)}")
        if request.idempotency_key:
            self.send_header("Idempotency-Key", request.idempotency_key)
        if replayed:
            self.send_header("Idempotent-Replayed", "true")
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="session")
def fake_stripe_server():
    """The HTTP server, one per test session (so that its URL, and the app settings, stay the same)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def fake_stripe(fake_stripe_server, monkeypatch):
    """A fresh fake Stripe account for one test; the library's retries don't wait."""
    monkeypatch.setattr(HTTPClient, "_sleep_time_seconds", lambda self, num_retries: 0)
    fake = FakeStripe("sk_test_4as_fake")
    fake.url = f"http://127.0.0.1:{fake_stripe_server.server_address[1]}"
    fake_stripe_server.fake = fake
    return fake
