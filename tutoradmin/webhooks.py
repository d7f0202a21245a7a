"""Gateway events: verified, recorded once by id, then applied (any order, any number of times)."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from . import fulfilment, gateway_sync
from .extensions import db
from .models import GatewayEvent, Payment
from .payments import CARD_DECLINED, SignatureError

MALFORMED = "Événement mal formé."
PAYMENT_FAILED = "Le paiement n'a pas pu être effectué. Veuillez réessayer ou utiliser une autre carte."


def failure_message(intent):
    """The French message for a failed PaymentIntent (Stripe's own messages are in English)."""
    error = intent.get("last_payment_error")
    if not isinstance(error, dict):
        error = {}
    if error.get("type") in (None, "card_error") or error.get("code") == "card_declined":
        return CARD_DECLINED
    return PAYMENT_FAILED


def _is_short_text(value, column):
    """A string the column can hold, without NUL (Stripe's ids and types are short ASCII names)."""
    return isinstance(value, str) and 0 < len(value) <= column.type.length and "\x00" not in value


def payment_object(event):
    """The event's object (a PaymentIntent, Charge, Refund or Dispute; empty when it has none).

    SignatureError when the event is malformed: the signature proves who sent an event, not that
    its fields have the shape this code reads.
    """
    if not _is_short_text(event["id"], GatewayEvent.event_id) or not _is_short_text(
        event["type"], GatewayEvent.event_type
    ):
        raise SignatureError(MALFORMED)
    data = event.get("data") or {}
    intent = (data.get("object") or {}) if isinstance(data, dict) else None
    if not isinstance(intent, dict):
        raise SignatureError(MALFORMED)
    if intent.get("id") is not None and not _is_short_text(intent["id"], Payment.gateway_payment_id):
        raise SignatureError(MALFORMED)
    if not gateway_sync.well_formed(event["type"], intent):
        raise SignatureError(MALFORMED)
    return intent


def receive(payload, signature, gateway, now):
    """Apply a signed event; raises SignatureError before writing anything. Returns False for a replay."""
    event = gateway.parse_event(payload, signature)
    intent = payment_object(event)
    if db.session.scalar(select(GatewayEvent.id).where(GatewayEvent.event_id == event["id"])) is not None:
        return False
    record = GatewayEvent(
        provider=gateway.name, event_id=event["id"], event_type=event["type"], payload=event, received_at=now
    )
    try:
        with db.session.begin_nested():
            db.session.add(record)
    except IntegrityError:
        return False
    if event["type"] == "payment_intent.succeeded":
        fulfilment.payment_succeeded(intent.get("id"), now, gateway)
    elif event["type"] == "payment_intent.payment_failed":
        fulfilment.payment_failed(intent.get("id"), failure_message(intent), now)
    elif gateway_sync.handles(event["type"]):
        gateway_sync.apply(event["type"], intent, gateway_sync.event_time(event, now), now, gateway)
    record.processed_at = now
    return True
