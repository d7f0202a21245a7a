"""Stripe kept in step (SPEC §11): refund outcomes, refunds made in Stripe's dashboard, and disputes.

Each handler takes the event's object, already checked by `well_formed`, and is idempotent: a replay,
or an older event arriving after a newer one, leaves the records as they are. Refunds end succeeded or
failed and never go back to pending; a failed refund stays failed; a closed dispute stays closed.
"""

import logging
from datetime import UTC, datetime

from sqlalchemy import select

from . import events, fulfilment, outbox, refunds
from .balances import COUNTED_REFUND_STATUSES, order_status_after_refunds
from .extensions import db
from .flags import CLOSED_DISPUTE_STATUSES, dispute_reason_label
from .formatting import money
from .models import (
    Dispute,
    DisputeStatus,
    Order,
    OutboxEventType,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
)

log = logging.getLogger(__name__)

CHARGE_REFUNDED = "charge.refunded"
REFUND_UPDATED = ("charge.refund.updated", "refund.updated")
DISPUTE_CHANGED = ("charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed")
MAX_AMOUNT = 2**31 - 1
MAX_TIMESTAMP = 2**37  # seconds: far beyond any real date, well within what datetime accepts
MAX_LISTED = 100

REFUND_FAILURES = {
    "expired_or_canceled_card": "carte expirée ou annulée",
    "lost_or_stolen_card": "carte déclarée perdue ou volée",
    "declined": "refusé par la banque du client",
    "insufficient_funds": "solde Stripe insuffisant",
    "merchant_request": "annulé à la demande de 4AS",
    "charge_for_pending_refund_disputed": "paiement contesté pendant le remboursement",
}


# The shape of the objects read here (the signature proves who sent an event, not what it holds)


def _text(value, length=255, required=True):
    if value is None:
        return not required
    return isinstance(value, str) and 0 < len(value) <= length and "\x00" not in value


def _amount(value, minimum=0):
    # bool is an int in Python; Stripe amounts are plain integers.
    return type(value) is int and minimum <= value <= MAX_AMOUNT


def _timestamp(value):
    return type(value) is int and 0 < value <= MAX_TIMESTAMP


def _listed_refund(refund):
    """A refund as a Charge lists it, or as refund events carry it."""
    metadata = refund.get("metadata") if isinstance(refund, dict) else None
    return (
        isinstance(refund, dict)
        and _text(refund.get("id"), Refund.gateway_refund_id.type.length)
        and _amount(refund.get("amount"), minimum=1)
        and _text(refund.get("status"), 30)
        and _text(refund.get("failure_reason"), 100, required=False)
        and _text(refund.get("payment_intent"), Payment.gateway_payment_id.type.length, required=False)
        and (metadata is None or isinstance(metadata, dict))
        and _text((metadata or {}).get("idempotency_key"), Refund.idempotency_key.type.length, required=False)
    )


def _charge(charge):
    listed = charge.get("refunds")
    if listed is None:
        return _text(charge.get("payment_intent"), Payment.gateway_payment_id.type.length, required=False)
    data = listed.get("data") if isinstance(listed, dict) else None
    return (
        _text(charge.get("payment_intent"), Payment.gateway_payment_id.type.length, required=False)
        and isinstance(data, list)
        and len(data) <= MAX_LISTED
        and isinstance(listed.get("has_more", False), bool)
        and all(_listed_refund(refund) for refund in data)
    )


def _dispute(dispute):
    return (
        _text(dispute.get("id"), Dispute.gateway_dispute_id.type.length)
        and _amount(dispute.get("amount"))
        and _text(dispute.get("status"), Dispute.status.type.length)
        and _text(dispute.get("reason"), Dispute.reason.type.length, required=False)
        and _text(dispute.get("charge"), required=False)
        and _text(dispute.get("payment_intent"), Payment.gateway_payment_id.type.length, required=False)
        and (dispute.get("created") is None or _timestamp(dispute["created"]))
    )


def well_formed(event_type, obj):
    """Whether an event object of a type handled here has the fields and types read from it."""
    if event_type == CHARGE_REFUNDED:
        return _charge(obj)
    if event_type in REFUND_UPDATED:
        return _listed_refund(obj)
    if event_type in DISPUTE_CHANGED:
        return _dispute(obj)
    return True


def handles(event_type):
    return event_type == CHARGE_REFUNDED or event_type in REFUND_UPDATED or event_type in DISPUTE_CHANGED


def apply(event_type, obj, at, now, gateway):
    """Apply an event of a type handled here; `at` is when the gateway says it happened."""
    if event_type == CHARGE_REFUNDED:
        charge_refunded(obj, at, now, gateway)
    elif event_type in REFUND_UPDATED:
        refund_updated(obj, at, now)
    elif event_type in DISPUTE_CHANGED:
        dispute_changed(obj, at, now, gateway)


def event_time(event, now):
    """When the gateway created the event (its `created` timestamp), else `now`."""
    created = event.get("created")
    return datetime.fromtimestamp(created, UTC) if _timestamp(created) else now


# Flags for staff


def flag(order, reason, now):
    """Ask staff to look at the order; a reason still showing is not added twice. Returns whether it was added."""
    shown = (order.flag_reason or "").split("\n") if order.flagged_at else []
    if reason in shown:
        return False
    order.flag_reason = "\n".join([*shown, reason])
    order.flagged_at = order.flagged_at or now
    return True


def locked_payment(gateway_payment_id):
    """Our payment of that PaymentIntent, locked after its order (the order fulfilment locks them in)."""
    found = db.session.execute(
        select(Payment.id, Payment.order_id).where(Payment.gateway_payment_id == gateway_payment_id)
    ).first()
    if found is None:
        return None
    db.session.get(Order, found.order_id, with_for_update=True, populate_existing=True)
    return db.session.get(Payment, found.id, with_for_update=True, populate_existing=True)


def _locked_refund(gateway_refund_id):
    found = db.session.execute(
        select(Refund.id, Refund.order_id).where(Refund.gateway_refund_id == gateway_refund_id)
    ).first()
    if found is None:
        return None
    db.session.get(Order, found.order_id, with_for_update=True, populate_existing=True)
    return db.session.get(Refund, found.id, with_for_update=True, populate_existing=True)


# Refunds


def sync_refund(refund, gateway_status, failure_reason, at, now):
    """Move a refund to the outcome the gateway reports: pending → succeeded or failed, succeeded → failed."""
    status = refunds.gateway_refund_status(gateway_status)
    if status == refund.status or status == RefundStatus.PENDING or refund.status == RefundStatus.FAILED:
        return
    if status == RefundStatus.SUCCEEDED:
        refund.status, refund.processed_at = status, at
        return
    # Failed, even after succeeding (a card closed meanwhile): the money is still with 4AS.
    label = REFUND_FAILURES.get(failure_reason, "motif non précisé")
    refund.status, refund.processed_at = status, None
    refund.failure_message = f"Échec chez Stripe : {label}."
    order = refund.order
    if order.status in fulfilment.BOOKED_STATUSES:
        order.status = order_status_after_refunds(order)
    flag(order, f"Le remboursement #{refund.id} a échoué chez Stripe : {label}", now)


def refund_updated(obj, at, now):
    """A refund's outcome, reported by `charge.refund.updated` or `refund.updated`."""
    refund = _locked_refund(obj["id"])
    if refund is None:
        log.info("Refund update ignored: refund %s is not recorded here", obj["id"])
        return
    sync_refund(refund, obj["status"], obj.get("failure_reason"), at, now)


def charge_refunded(charge, at, now, gateway):
    """Sync the charge's refunds: known ones get their status, others were made in Stripe's dashboard."""
    payment_id = charge.get("payment_intent")
    payment = locked_payment(payment_id) if payment_id else None
    if payment is None:
        log.info("Charge refund ignored: payment %s is not recorded here", payment_id)
        return
    listed = charge.get("refunds")
    if listed is None or listed.get("has_more"):
        # Recent API versions leave the refunds out of the Charge: ask for them.
        found = gateway.refunds_of(payment_id)
        refunds_seen = [r for r in found if _listed_refund(r)]
    else:
        refunds_seen = listed["data"]
    for seen in refunds_seen:
        known = _locked_refund(seen["id"])
        if known is not None:
            sync_refund(known, seen["status"], seen.get("failure_reason"), at, now)
        elif (seen.get("metadata") or {}).get("idempotency_key"):
            # Asked for by this application: the request that asked records it (it may not have committed yet).
            log.info("Charge refund %s made here: left to the request that made it", seen["id"])
        else:
            _record_dashboard_refund(payment, seen, at, now, gateway)


def _record_dashboard_refund(payment, seen, at, now, gateway):
    if payment.status != PaymentStatus.SUCCEEDED:
        # A refunded charge was paid: its success event is late, or lost. Book as that event would.
        fulfilment.payment_succeeded(payment.gateway_payment_id, now, gateway)
    order = payment.order
    status = refunds.gateway_refund_status(seen["status"])
    refund, excess = refunds.record_gateway_refund(order, payment, seen["id"], seen["amount"], status, at)
    if status not in COUNTED_REFUND_STATUSES:
        return
    if order.status in fulfilment.BOOKED_STATUSES:
        order.status = order_status_after_refunds(order)
    reason = f"Remboursement de {money(refund.amount_cents)} fait dans Stripe : choisir les séances à annuler"
    if excess:
        reason += f" (dépasse de {money(excess)} ce qui restait à rembourser)"
    flag(order, reason, now)
    # The student hears of the money coming back as for a refund made from the back office.
    outbox.emit(
        OutboxEventType.REFUND_PROCESSED, events.refund_processed(refund), f"refund.processed:refund:{refund.id}", now
    )


# Disputes


def dispute_changed(obj, at, now, gateway):
    """A dispute opened, updated or closed: one row per gateway dispute, its order flagged when it opens."""
    if obj["status"] not in DisputeStatus.values():
        log.warning("Dispute %s ignored: unknown status %r", obj["id"], obj["status"])
        return
    found = db.session.execute(
        select(Dispute.id, Dispute.order_id).where(Dispute.gateway_dispute_id == obj["id"])
    ).first()
    if found is not None:
        db.session.get(Order, found.order_id, with_for_update=True, populate_existing=True)
        dispute = db.session.get(Dispute, found.id, with_for_update=True, populate_existing=True)
        if dispute.status in CLOSED_DISPUTE_STATUSES:
            return
        dispute.status, dispute.amount_cents = obj["status"], obj["amount"]
    else:
        dispute = _open_dispute(obj, at, now, gateway)
        if dispute is None:
            return
    if dispute.status in CLOSED_DISPUTE_STATUSES and dispute.closed_at is None:
        dispute.closed_at = at


def _open_dispute(obj, at, now, gateway):
    payment_id = obj.get("payment_intent")
    if payment_id is None and obj.get("charge"):
        # Older API versions name only the charge.
        payment_id = gateway.payment_of_charge(obj["charge"])
    payment = locked_payment(payment_id) if payment_id else None
    if payment is None:
        log.warning("Dispute %s ignored: its payment %s is not recorded here", obj["id"], payment_id)
        return None
    created = obj.get("created")
    dispute = Dispute(
        order_id=payment.order_id,
        payment_id=payment.id,
        gateway_dispute_id=obj["id"],
        amount_cents=obj["amount"],
        reason=obj.get("reason") or "",
        status=obj["status"],
        created_at=datetime.fromtimestamp(created, UTC) if created else at,
    )
    db.session.add(dispute)
    db.session.flush()
    reason = dispute_reason_label(dispute.reason)
    flag(payment.order, f"Litige bancaire ouvert : {reason}, {money(dispute.amount_cents)}", now)
    return dispute
