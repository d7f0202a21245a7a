"""Student credit: the balance is the ledger's credits minus its debits."""

from sqlalchemy import case, func, select

from . import audit
from .extensions import db
from .formatting import money
from .models import CreditEntry, CreditKind


class CreditError(Exception):
    """A credit adjustment refused; the message is for the office."""


def balance_cents(user_id):
    """A student's available credit, summed in SQL."""
    signed = case((CreditEntry.kind == CreditKind.CREDIT.value, CreditEntry.amount_cents), else_=-CreditEntry.amount_cents)
    return db.session.scalar(select(func.coalesce(func.sum(signed), 0)).where(CreditEntry.user_id == user_id))


def add_entry(user_id, kind, amount_cents, reason, now, **links):
    """Write one ledger line; the caller commits."""
    entry = CreditEntry(
        user_id=user_id, kind=str(kind), amount_cents=amount_cents, reason=reason, created_at=now, **links
    )
    db.session.add(entry)
    return entry


def adjust(student, kind, amount_cents, reason, actor, now):
    """A manual credit or debit by the office, with its reason, audited; the caller commits."""
    reason = (reason or "").strip()
    if not reason:
        raise CreditError("Indiquez le motif de l'ajustement.")
    if kind not in (CreditKind.CREDIT, CreditKind.DEBIT):
        raise CreditError("Opération inconnue.")
    if not isinstance(amount_cents, int) or amount_cents <= 0:
        raise CreditError("Le montant doit être supérieur à 0 $.")
    before = balance_cents(student.id)
    if kind == CreditKind.DEBIT and amount_cents > before:
        raise CreditError(f"Le solde de crédit n'est que de {money(before)}.")
    entry = add_entry(student.id, kind, amount_cents, reason, now, created_by_id=actor.id)
    after = before + amount_cents if kind == CreditKind.CREDIT else before - amount_cents
    audit.record(actor, "credit.adjusted", student, now, before={"solde_cents": before},
                 after={"solde_cents": after, "operation": str(kind), "montant_cents": amount_cents, "motif": reason})
    return entry


def history(user_id):
    """A student's ledger, newest first."""
    return db.session.scalars(
        select(CreditEntry).where(CreditEntry.user_id == user_id).order_by(CreditEntry.created_at.desc(),
                                                                           CreditEntry.id.desc())
    ).all()
