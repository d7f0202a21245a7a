"""What every gateway returns and raises, and the signed-event format they share."""

import time
from dataclasses import dataclass

import stripe

from .. import json_input
from ..errors import DomainError

CARD_DECLINED = "Votre carte a été refusée."
CARD_NOT_FOUND = "Cette carte n'est pas enregistrée à votre compte."
UNAVAILABLE = "Le service de paiement est momentanément indisponible. Veuillez réessayer."
SIGNATURE_TOLERANCE_SECONDS = 300


class GatewayError(DomainError):
    """The gateway refused or failed; the message is for the customer."""


class SignatureError(DomainError):
    """A webhook payload whose signature is missing, wrong or stale, or whose event is malformed."""


@dataclass(frozen=True)
class PaymentStart:
    payment_id: str
    client_secret: str
    status: str


@dataclass(frozen=True)
class RefundResult:
    refund_id: str
    status: str


@dataclass(frozen=True)
class GatewayPayment:
    """A PaymentIntent as the gateway reports it, for reconciliation."""

    payment_id: str
    status: str
    amount_cents: int
    currency: str
    created: int


@dataclass(frozen=True)
class Card:
    payment_method_id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


def _signed_at(header):
    """The t= timestamp of a Stripe-Signature header (the header has been verified already)."""
    for item in header.split(","):
        key, _, value = item.partition("=")
        if key == "t":
            return int(value)
    raise SignatureError("Signature invalide.")


def verify_event(payload, header, secret):
    """The event in a webhook payload, once its Stripe-style signature checks out.

    A signature is accepted within SIGNATURE_TOLERANCE_SECONDS of the present, before or after;
    the body must be UTF-8 JSON of bounded depth.
    """
    if not header or not secret:
        raise SignatureError("Signature absente.")
    if not header.isascii():
        raise SignatureError("Signature invalide.")
    try:
        text = payload.decode("utf-8") if isinstance(payload, bytes) else payload
    except UnicodeDecodeError as exc:
        raise SignatureError("Contenu illisible.") from exc
    try:
        stripe.WebhookSignature.verify_header(text, header, secret, tolerance=SIGNATURE_TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError as exc:
        raise SignatureError("Signature invalide.") from exc
    # Stripe's check only refuses old signatures; one dated in the future would stay valid for ever.
    if _signed_at(header) > time.time() + SIGNATURE_TOLERANCE_SECONDS:
        raise SignatureError("Signature invalide.")
    try:
        event = json_input.load(text)
    except ValueError as exc:
        raise SignatureError("Contenu illisible.") from exc
    if not isinstance(event, dict) or "id" not in event or "type" not in event:
        raise SignatureError("Événement mal formé.")
    return event


def sign_payload(payload, secret, timestamp=None):
    """The Stripe-Signature header for a payload: t=<time>,v1=<HMAC-SHA256>."""
    text = payload.decode() if isinstance(payload, bytes) else payload
    return stripe.WebhookSignature.generate_signature_header(text, secret, timestamp)
