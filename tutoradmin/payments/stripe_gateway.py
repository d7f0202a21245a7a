"""Stripe PaymentIntents in CAD cents through the official library (StripeClient)."""

import hashlib

import stripe

from .base import (
    CARD_DECLINED,
    CARD_NOT_FOUND,
    UNAVAILABLE,
    Card,
    GatewayError,
    GatewayPayment,
    PaymentStart,
    RefundResult,
    verify_event,
)


def _digest(text):
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _translate(exc):
    if isinstance(exc, stripe.CardError):
        return GatewayError(CARD_DECLINED)
    return GatewayError(UNAVAILABLE)


class StripeGateway:
    name = "stripe"
    simulated = False

    def __init__(self, config):
        options = {"max_network_retries": 2}
        if config.get("STRIPE_API_BASE"):
            options["base_addresses"] = {"api": config["STRIPE_API_BASE"]}
        self.client = stripe.StripeClient(config["STRIPE_SECRET_KEY"], **options)
        self.publishable_key = config.get("STRIPE_PUBLISHABLE_KEY")
        self.webhook_secret = config.get("STRIPE_WEBHOOK_SECRET")

    def ensure_customer(self, user):
        """The student's Stripe customer id, created once."""
        if user.stripe_customer_id:
            return user.stripe_customer_id
        try:
            customer = self.client.v1.customers.create(
                params={"email": user.email, "name": user.full_name, "metadata": {"user_id": str(user.id)}},
                # The email is part of the key: SQLite can hand a rolled-back account's id to the next one.
                options={"idempotency_key": f"customer-user-{user.id}-{_digest(user.email)}"},
            )
        except stripe.StripeError as exc:
            raise _translate(exc) from exc
        user.stripe_customer_id = customer.id
        return customer.id

    def create_payment(self, order, customer_id, idempotency_key, save_card=False, payment_method_id=None):
        params = {
            "amount": order.total_cents,
            "currency": "cad",
            "metadata": {"order_id": str(order.id)},
        }
        if customer_id:
            params["customer"] = customer_id
        if save_card:
            params["setup_future_usage"] = "off_session"
        params["automatic_payment_methods"] = {"enabled": True}
        if payment_method_id:
            # Confirmed here, with no page to come back to: without a return_url Stripe refuses any intent
            # that allows redirect-based methods, and a saved card is not one.
            params.update(payment_method=payment_method_id, confirm=True)
            params["automatic_payment_methods"]["allow_redirects"] = "never"
        try:
            intent = self.client.v1.payment_intents.create(params=params, options={"idempotency_key": idempotency_key})
        except stripe.StripeError as exc:
            raise _translate(exc) from exc
        return PaymentStart(intent.id, intent.client_secret, intent.status)

    def cancel_payment(self, payment_id, idempotency_key):
        """Stop an abandoned PaymentIntent so that an old browser tab can no longer pay it."""
        try:
            self.client.v1.payment_intents.cancel(
                payment_id, params={"cancellation_reason": "abandoned"}, options={"idempotency_key": idempotency_key}
            )
        except stripe.StripeError as exc:
            raise _translate(exc) from exc

    def client_secret(self, payment_id):
        """What Stripe.js needs to confirm this PaymentIntent in the browser."""
        try:
            return self.client.v1.payment_intents.retrieve(payment_id).client_secret
        except stripe.StripeError as exc:
            raise _translate(exc) from exc

    def saved_cards(self, customer_id):
        if not customer_id:
            return []
        try:
            methods = self.client.v1.payment_methods.list(params={"customer": customer_id, "type": "card"})
        except stripe.StripeError as exc:
            raise _translate(exc) from exc
        return [Card(m.id, m.card.brand, m.card.last4, m.card.exp_month, m.card.exp_year) for m in methods.data]

    def default_card(self, customer_id):
        """The id of the card the customer's future payments use by default, or None."""
        if not customer_id:
            return None
        try:
            customer = self.client.v1.customers.retrieve(customer_id)
        except stripe.StripeError as exc:
            raise _translate(exc) from exc
        settings = customer.invoice_settings
        return settings.default_payment_method if settings else None

    def _own_card(self, customer_id, payment_method_id):
        """The payment method, once it is known to be a card saved on this customer."""
        if not customer_id or not payment_method_id:
            raise GatewayError(CARD_NOT_FOUND)
        try:
            method = self.client.v1.payment_methods.retrieve(payment_method_id)
        except stripe.InvalidRequestError as exc:
            raise GatewayError(CARD_NOT_FOUND) from exc
        except stripe.StripeError as exc:
            raise _translate(exc) from exc
        if method.customer != customer_id or method.type != "card":
            raise GatewayError(CARD_NOT_FOUND)
        return method

    def detach_card(self, customer_id, payment_method_id):
        """Remove a saved card from the customer (only one of the customer's own)."""
        self._own_card(customer_id, payment_method_id)
        try:
            self.client.v1.payment_methods.detach(payment_method_id)
        except stripe.StripeError as exc:
            raise _translate(exc) from exc

    def set_default_card(self, customer_id, payment_method_id):
        """Make one of the customer's saved cards the default for future payments."""
        self._own_card(customer_id, payment_method_id)
        try:
            self.client.v1.customers.update(
                customer_id, params={"invoice_settings": {"default_payment_method": payment_method_id}}
            )
        except stripe.StripeError as exc:
            raise _translate(exc) from exc

    def refund(self, payment_id, amount_cents, idempotency_key):
        try:
            refund = self.client.v1.refunds.create(
                # The key in the metadata tells this refund from one made in Stripe's dashboard (gateway_sync.py).
                params={
                    "payment_intent": payment_id,
                    "amount": amount_cents,
                    "metadata": {"idempotency_key": idempotency_key},
                },
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise _translate(exc) from exc
        return RefundResult(refund.id, refund.status)

    def refunds_of(self, payment_id):
        """The refunds of a PaymentIntent as {id, amount, status} dicts (a Charge's own list is not sent)."""
        try:
            found = self.client.v1.refunds.list(params={"payment_intent": payment_id, "limit": 100})
            return [{"id": r.id, "amount": r.amount, "status": r.status} for r in found.auto_paging_iter()]
        except stripe.StripeError as exc:
            raise _translate(exc) from exc

    def payment_of_charge(self, charge_id):
        """The PaymentIntent id of a Charge (None when it has none)."""
        try:
            return self.client.v1.charges.retrieve(charge_id).payment_intent
        except stripe.StripeError as exc:
            raise _translate(exc) from exc

    def recent_payments(self, since):
        """Every PaymentIntent created at or after `since` (an aware datetime), all pages."""
        params = {"created": {"gte": int(since.timestamp())}, "limit": 100}
        try:
            found = self.client.v1.payment_intents.list(params=params)
            return [GatewayPayment(i.id, i.status, i.amount, i.currency, i.created) for i in found.auto_paging_iter()]
        except stripe.StripeError as exc:
            raise _translate(exc) from exc

    def parse_event(self, payload, header):
        return verify_event(payload, header, self.webhook_secret)
