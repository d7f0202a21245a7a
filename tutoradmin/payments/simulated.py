"""The offline gateway: payments decided on a test card page, outcomes sent as signed events."""

import hashlib
import json
import time

from .base import CARD_NOT_FOUND, GatewayError, PaymentStart, RefundResult, sign_payload, verify_event

#: What the test card page offers, and the event each choice produces.
OUTCOMES = {
    "success": "payment_intent.succeeded",
    "decline": "payment_intent.payment_failed",
    "auth_refused": "payment_intent.payment_failed",
}


def _token(key):
    return hashlib.sha256(key.encode()).hexdigest()[:24]


class SimulatedGateway:
    name = "simulated"
    simulated = True
    publishable_key = None

    def __init__(self, config):
        self.secret = config["SIMULATED_WEBHOOK_SECRET"]

    def ensure_customer(self, user):
        # Not stored on the account: it would be sent to Stripe once real keys are configured.
        return f"cus_sim_{user.id}"

    def create_payment(self, order, customer_id, idempotency_key, save_card=False, payment_method_id=None):
        # The same key gives the same payment, as Stripe's idempotency keys do.
        payment_id = f"pi_sim_{_token(idempotency_key)}"
        return PaymentStart(payment_id, self.client_secret(payment_id), "requires_payment_method")

    def cancel_payment(self, payment_id, idempotency_key):
        """Nothing to stop: a simulated payment only happens on its test card page."""

    def client_secret(self, payment_id):
        return f"{payment_id}_secret_sim"

    def saved_cards(self, customer_id):
        return []

    def default_card(self, customer_id):
        return None

    def detach_card(self, customer_id, payment_method_id):
        """The simulator saves no card: there is none to remove."""
        raise GatewayError(CARD_NOT_FOUND)

    def set_default_card(self, customer_id, payment_method_id):
        raise GatewayError(CARD_NOT_FOUND)

    def refund(self, payment_id, amount_cents, idempotency_key):
        return RefundResult(f"re_sim_{_token(idempotency_key)}", "succeeded")

    def refunds_of(self, payment_id):
        """Nothing to list: simulated refunds succeed at once and are recorded when made."""
        return []

    def payment_of_charge(self, charge_id):
        return None

    def recent_payments(self, since):
        """Always empty: the simulator keeps no account of its own.

        A simulated payment's outcome is chosen on the test card page and delivered through the webhook
        in the same request, so there is nothing the records could have missed.
        """
        return []

    def event(self, event_type, payment_id, order_id, amount_cents, message=None):
        """A Stripe-shaped event about a simulated PaymentIntent."""
        intent = {
            "id": payment_id,
            "object": "payment_intent",
            "amount": amount_cents,
            "currency": "cad",
            "metadata": {"order_id": str(order_id)},
            "status": "succeeded" if event_type == "payment_intent.succeeded" else "requires_payment_method",
        }
        if message:
            intent["last_payment_error"] = {"code": "card_declined", "message": message}
        return {
            "id": f"evt_sim_{_token(f'{payment_id}:{event_type}:{time.time_ns()}')}",
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "data": {"object": intent},
        }

    def sign(self, event):
        """The payload and Stripe-Signature header of an event, as the webhook receives them."""
        payload = json.dumps(event).encode()
        return payload, sign_payload(payload, self.secret)

    def parse_event(self, payload, header):
        return verify_event(payload, header, self.secret)
