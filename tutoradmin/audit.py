"""The audit log of sensitive actions: who did what, when, with the values before and after."""

from .extensions import db
from .models import AuditLog

#: What each audited action is called in the back office.
ACTION_LABELS = {
    "refund.created": "Remboursement",
    "payout.paid": "Paiement au tuteur",
    "tutor.rate_changed": "Taux horaire modifié",
    "user.role_changed": "Rôle modifié",
    "user.status_changed": "Statut du compte modifié",
    "credit.adjusted": "Ajustement de crédit",
    "appointment.cancelled": "Rendez-vous annulé",
}


def record(actor, action, target, now, before=None, after=None):
    """Add one audit line about `target` (a model instance) in the caller's transaction."""
    entry = AuditLog(
        actor_id=getattr(actor, "id", None), action=action, target_type=target.__tablename__,
        target_id=target.id, before=before, after=after, created_at=now,
    )
    db.session.add(entry)
    return entry
