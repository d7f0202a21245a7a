"""Student credit: the balance is the ledger's credits minus its debits."""

from sqlalchemy import case, func, select

from .extensions import db
from .models import CreditEntry, CreditKind


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
