"""Gateway events: verified, recorded once by id, then applied (any order, any number of times)."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from . import fulfilment
from .extensions import db
from .models import GatewayEvent
from .payments import CARD_DECLINED

PAYMENT_FAILED = "Le paiement n'a pas pu être effectué. Veuillez réessayer ou utiliser une autre carte."


def failure_message(intent):
    """The French message for a failed PaymentIntent (Stripe's own messages are in English)."""
    error = intent.get("last_payment_error") or {}
    if error.get("type") in (None, "card_error") or error.get("code") == "card_declined":
        return CARD_DECLINED
    return PAYMENT_FAILED


def receive(payload, signature, gateway, now):
    """Apply a signed event; raises SignatureError before writing anything. Returns False for a replay."""
    event = gateway.parse_event(payload, signature)
    if db.session.scalar(select(GatewayEvent.id).where(GatewayEvent.event_id == event["id"])) is not None:
        return False
    record = GatewayEvent(provider=gateway.name, event_id=event["id"], event_type=event["type"],
                          payload=event, received_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(record)
    except IntegrityError:
        return False
    intent = (event.get("data") or {}).get("object") or {}
    if event["type"] == "payment_intent.succeeded":
        fulfilment.payment_succeeded(intent.get("id"), now, gateway)
    elif event["type"] == "payment_intent.payment_failed":
        fulfilment.payment_failed(intent.get("id"), failure_message(intent), now)
    record.processed_at = now
    return True
