"""The audit log of sensitive actions: who did what, when, with the values before and after."""

from sqlalchemy import inspect

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
    "outbox.resent": "Envoi sortant renvoyé",
    "order.flag_cleared": "Signalement de commande traité",
    "session_message.hidden": "Message masqué",
    "attendance.corrected": "Présence corrigée",
    "attendance_policy.changed": "Politique de présence modifiée",
    "course_request.approved": "Demande de cours acceptée",
    "course_request.refused": "Demande de cours refusée",
    "rating.comment_hidden": "Commentaire d'évaluation masqué",
    "rating.comment_shown": "Commentaire d'évaluation réaffiché",
}

#: What the audited rows are called.
TARGET_LABELS = {
    "appointments": "Séance",
    "attendance_policies": "Politique de présence",
    "course_requests": "Demande de cours",
    "orders": "Commande",
    "outbox_events": "Envoi sortant",
    "ratings": "Évaluation",
    "session_messages": "Message sur une séance",
    "tutor_payouts": "Relevé de paie",
    "tutors": "Tuteur",
    "users": "Compte",
}


def record(actor, action, target, now, before=None, after=None):
    """Add one audit line about `target` (a model instance) in the caller's transaction."""
    entry = AuditLog(
        actor_id=getattr(actor, "id", None),
        action=action,
        target_type=target.__tablename__,
        target_id=target.id,
        before=before,
        after=after,
        created_at=now,
    )
    db.session.add(entry)
    return entry


def changes(model, fields):
    """(before, after) of the given attributes changed on a loaded model since it was read, or None."""
    state = inspect(model)
    before, after = {}, {}
    for name in fields:
        history = state.attrs[name].history
        if history.has_changes() and history.deleted:
            before[name], after[name] = history.deleted[0], getattr(model, name)
    return (before, after) if after else None


def record_changes(actor, action, model, fields, now):
    """Audit an edit of `model` when one of `fields` changed (nothing otherwise)."""
    changed = changes(model, fields)
    if changed is not None:
        record(actor, action, model, now, before=changed[0], after=changed[1])
