"""Orders flagged for the office (disputes, refunds made or failed at the gateway) and open disputes."""

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from . import audit
from .errors import DomainError
from .extensions import db
from .models import Dispute, DisputeStatus, Order

NOT_FLAGGED = "Cette commande n'est plus signalée : quelqu'un l'a déjà marquée comme traitée."
#: A dispute in one of these statuses is over; any other still needs an answer or a decision.
CLOSED_DISPUTE_STATUSES = (DisputeStatus.WON.value, DisputeStatus.LOST.value, DisputeStatus.WARNING_CLOSED.value)

#: Stripe's dispute reasons, as the office reads them.
DISPUTE_REASON_LABELS = {
    "bank_cannot_process": "La banque ne peut traiter le paiement",
    "credit_not_processed": "Remboursement non reçu",
    "customer_initiated": "Contesté par le client",
    "debit_not_authorized": "Débit non autorisé",
    "duplicate": "Paiement en double",
    "fraudulent": "Fraude",
    "general": "Motif général",
    "incorrect_account_details": "Coordonnées du compte erronées",
    "insufficient_funds": "Fonds insuffisants",
    "product_not_received": "Service non reçu",
    "product_unacceptable": "Service jugé inacceptable",
    "subscription_canceled": "Abonnement annulé",
    "unrecognized": "Paiement non reconnu",
}


def dispute_reason_label(reason):
    """A dispute's reason in French (the gateway's code when it is a new one)."""
    return DISPUTE_REASON_LABELS.get(reason, reason) or "motif non précisé"


def flagged_orders_count():
    """How many orders wait for the office to look at them."""
    return db.session.scalar(select(func.count()).select_from(Order).where(Order.flagged_at.is_not(None)))


def open_disputes():
    """Disputes not yet decided, oldest first, with their order and its customer loaded."""
    return db.session.scalars(
        select(Dispute)
        .where(Dispute.status.not_in(CLOSED_DISPUTE_STATUSES))
        .options(joinedload(Dispute.order).joinedload(Order.user))
        .order_by(Dispute.created_at, Dispute.id)
    ).all()


def disputes_of(order):
    """An order's disputes, oldest first."""
    return db.session.scalars(
        select(Dispute).where(Dispute.order_id == order.id).order_by(Dispute.created_at, Dispute.id)
    ).all()


def clear_order_flag(order, actor, now, note=""):
    """Mark a flagged order as dealt with; the audit log keeps the reason it was flagged for, and `note`."""
    # Locked, so that two clicks clear it (and audit it) once; the second is told it is done.
    db.session.refresh(order, with_for_update=True)
    if order.flagged_at is None:
        raise DomainError(NOT_FLAGGED)
    before = {"flagged_at": order.flagged_at.isoformat(), "flag_reason": order.flag_reason}
    order.flagged_at = None
    order.flag_reason = None
    after = {"flagged_at": None, "note": note.strip()} if note and note.strip() else {"flagged_at": None}
    audit.record(actor, "order.flag_cleared", order, now, before=before, after=after)
