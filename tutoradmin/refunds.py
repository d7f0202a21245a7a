"""Refunds to the card: all or part of an order, through the gateway, once per request (SPEC §9).

A refund names the sessions it cancels. Its amount goes first to those sessions (up to what
the card paid for each), then to the rest of the order, so that each order item knows how much
of it was given back. Nothing is marked refunded or cancelled unless the gateway accepted it.
"""

import re

from sqlalchemy import select

from . import appointments, audit, credits, events, outbox, receipts
from .balances import REFUNDABLE_STATUSES, item_balances, order_status_after_refunds, refundable_cents
from .errors import DomainError
from .extensions import db
from .formatting import money
from .models import (
    CreditKind,
    Order,
    OrderStatus,
    OutboxEventType,
    PaymentStatus,
    Refund,
    RefundItem,
    RefundStatus,
)
from .payments import GatewayError
from .pricing import allocate

REQUEST_KEY = re.compile(r"^[0-9a-f]{32}$")


class RefundError(DomainError):
    """A refund refused before reaching the gateway, or by it; the message is for the office."""


def _shares(balances, cancelled_ids, amount_cents):
    """Split the amount: the cancelled sessions first, then the others, never past an item's balance."""
    shares = {}
    remaining = amount_cents
    for group in (
        [b for b in balances if b.item.id in cancelled_ids],
        [b for b in balances if b.item.id not in cancelled_ids],
    ):
        room = [max(0, b.refundable_cents) for b in group]
        taken = min(remaining, sum(room))
        for balance, share in zip(group, _capped(taken, room), strict=True):
            shares[balance.item.id] = shares.get(balance.item.id, 0) + share
        remaining -= taken
    return shares


def _capped(total, room):
    """Proportional shares of `total` that never exceed each item's room (total <= sum(room))."""
    shares = allocate(total, room)
    return [min(share, cap) for share, cap in zip(shares, room, strict=True)]


def _validate(order, amount_cents, cancelled_ids, reason, balances):
    if order.status not in REFUNDABLE_STATUSES:
        raise RefundError("Seule une commande payée peut être remboursée.")
    if not reason:
        raise RefundError("Indiquez le motif du remboursement.")
    available = refundable_cents(order, balances)
    if available <= 0:
        raise RefundError("Il ne reste rien à rembourser sur la carte pour cette commande.")
    if not isinstance(amount_cents, int) or amount_cents <= 0:
        raise RefundError("Le montant doit être supérieur à 0 $.")
    if amount_cents > available:
        raise RefundError(f"Le montant dépasse ce qui reste à rembourser ({money(available)}).")
    cancellable = {b.item.id for b in balances if b.cancellable}
    if not set(cancelled_ids) <= cancellable:
        raise RefundError("Une des séances choisies n'appartient pas à cette commande ou est déjà annulée.")


def refund_order(order, amount_cents, cancelled_ids, reason, actor, now, gateway, request_key):
    """Refund `amount_cents` of the order to the card and cancel the chosen sessions; the caller commits.

    `request_key` comes from the refund form: submitting the same form twice returns the first
    refund instead of refunding again (the gateway also gets the same idempotency key).
    A refund the gateway refuses is recorded as failed and changes nothing else.
    """
    if not REQUEST_KEY.match(request_key or ""):
        raise RefundError("Formulaire expiré : rouvrez la page de remboursement.")
    # Concurrent submissions for one order queue here (PostgreSQL row lock).
    order = db.session.get(Order, order.id, with_for_update=True, populate_existing=True)
    key = f"refund-order-{order.id}-{request_key}"
    earlier = db.session.scalar(select(Refund).where(Refund.idempotency_key == key))
    if earlier is not None:
        return earlier
    reason = (reason or "").strip()
    cancelled_ids = set(cancelled_ids)
    status_before = order.status
    balances = item_balances(order)
    _validate(order, amount_cents, cancelled_ids, reason, balances)
    payment = next(p for p in reversed(order.payments) if p.status == PaymentStatus.SUCCEEDED)
    refund = Refund(
        order=order,
        payment_id=payment.id,
        amount_cents=amount_cents,
        reason=reason,
        idempotency_key=key,
        created_by_id=getattr(actor, "id", None),
        created_at=now,
    )
    shares = _shares(balances, cancelled_ids, amount_cents)
    for balance in balances:
        if shares.get(balance.item.id) or balance.item.id in cancelled_ids:
            refund.items.append(
                RefundItem(
                    order_item_id=balance.item.id,
                    amount_cents=shares.get(balance.item.id, 0),
                    cancels_appointment=balance.item.id in cancelled_ids,
                )
            )
    db.session.add(refund)
    db.session.flush()
    if not send(refund, payment, gateway, now):
        return refund
    for balance in balances:
        if balance.item.id in cancelled_ids:
            _cancel_session(order, balance.item, reason, actor, now)
    order.status = order_status_after_refunds(order)
    audit.record(
        actor,
        "refund.created",
        order,
        now,
        before={"statut": status_before},
        after={
            "remboursement": refund.id,
            "montant_cents": amount_cents,
            "motif": reason,
            "seances_annulees": sorted(cancelled_ids),
            "statut": order.status,
        },
    )
    outbox.emit(
        OutboxEventType.REFUND_PROCESSED,
        events.refund_processed(refund),
        f"refund.processed:refund:{refund.id}",
        now,
    )
    return refund


def refund_unbookable(order, payment, reason, now, gateway):
    """Give a payment that cannot book its order back to the card in full, and flag the order's sessions.

    Nothing is booked and no credit is debited. The order counts as paid then refunded; if the gateway
    refuses the refund, the order stays paid, with nothing booked, for the office to refund from its page.
    Returns whether the money is back. The caller commits.
    """
    order.paid_at = now
    # The card was charged: the payment and its refund both show on the order's receipt.
    receipts.assign_receipt_number(order, now)
    for item in order.items:
        item.flagged_at, item.flag_reason = now, reason
    refund = Refund(
        order=order,
        payment_id=payment.id,
        amount_cents=payment.amount_cents,
        reason=reason,
        idempotency_key=f"order-{order.id}-payment-{payment.id}-unbookable",
        created_at=now,
    )
    # The card paid each session its price less its shares of the coupon and the credit.
    refund.items.extend(
        RefundItem(order_item_id=item.id, amount_cents=item.card_cents, cancels_appointment=False)
        for item in order.items
    )
    db.session.add(refund)
    db.session.flush()
    if not send(refund, payment, gateway, now):
        order.status = OrderStatus.PAID.value
        return False
    order.status = OrderStatus.REFUNDED.value
    outbox.emit(
        OutboxEventType.REFUND_PROCESSED,
        events.refund_processed(refund),
        f"refund.processed:refund:{refund.id}",
        now,
    )
    return True


REFUND_REFUSED = "Remboursement refusé par le service de paiement."


def gateway_refund_status(status):
    """Our status for a refund status reported by the gateway (Stripe's five)."""
    if status == "succeeded":
        return RefundStatus.SUCCEEDED.value
    if status in ("pending", "requires_action"):
        return RefundStatus.PENDING.value
    return RefundStatus.FAILED.value


def send(refund, payment, gateway, now):
    """Ask the gateway for a recorded refund and record its answer; returns whether the gateway accepted it.

    An accepted refund is succeeded, or pending until the gateway reports its outcome (gateway_sync.py).
    """
    try:
        result = gateway.refund(payment.gateway_payment_id, refund.amount_cents, refund.idempotency_key)
    except GatewayError as exc:
        refund.status, refund.failure_message = RefundStatus.FAILED.value, str(exc)
        return False
    status = gateway_refund_status(result.status)
    if status == RefundStatus.FAILED:
        # Refused outright: like an error, it never cancelled anything (no gateway id, see balances._refunded).
        refund.status, refund.failure_message = status, REFUND_REFUSED
        return False
    refund.status, refund.gateway_refund_id = status, result.refund_id
    refund.processed_at = now if status == RefundStatus.SUCCEEDED else None
    return True


def _cancel_session(order, item, reason, actor, now):
    """Cancel a refunded session without a credit for its card part; its credit part returns as credit."""
    appointment = item.appointment
    appointments.cancel(appointment, f"Remboursement : {reason}", actor, now, give_credit=False)
    if item.credit_cents:
        credits.add_entry(
            order.user_id,
            CreditKind.CREDIT,
            item.credit_cents,
            f"Crédit rendu — remboursement de la commande #{order.id}",
            now,
            order_id=order.id,
            appointment_id=appointment.id,
            created_by_id=getattr(actor, "id", None),
        )


DASHBOARD_REASON = "Remboursement fait dans le tableau de bord Stripe"


def record_gateway_refund(order, payment, gateway_refund_id, amount_cents, status, now):
    """Record a refund made at the gateway itself: spread over the card parts, cancelling no session.

    Returns (refund, cents beyond what the records had left to refund). The caller commits.
    """
    balances = item_balances(order)
    shares = _shares(balances, set(), amount_cents)
    excess = amount_cents - sum(shares.values())
    if excess:
        # The gateway gave back more than the records leave refundable: the items still sum to the refund.
        weights = [b.card_cents for b in balances]
        extra = allocate(excess, weights if sum(weights) else [1] * len(weights))
        for balance, cents in zip(balances, extra, strict=True):
            shares[balance.item.id] = shares.get(balance.item.id, 0) + cents
    refund = Refund(
        order=order,
        payment_id=payment.id,
        amount_cents=amount_cents,
        reason=DASHBOARD_REASON,
        status=status,
        gateway_refund_id=gateway_refund_id,
        idempotency_key=f"stripe-refund-{gateway_refund_id}",
        created_at=now,
        processed_at=now if status == RefundStatus.SUCCEEDED else None,
    )
    refund.items.extend(
        RefundItem(order_item_id=b.item.id, amount_cents=shares[b.item.id], cancels_appointment=False)
        for b in balances
        if shares.get(b.item.id)
    )
    db.session.add(refund)
    db.session.flush()
    return refund, excess
