"""Student credit: the balance is the ledger's credits minus its debits.

A pending order reserves the credit it will debit once paid: what a student can spend
(`available_cents`) is the balance less those reservations, and abandoning the order releases
them. The database refuses any debit that would take the balance below zero (models/credits.py).
"""

from sqlalchemy import case, func, select

from . import audit
from .errors import DomainError
from .extensions import db
from .formatting import money
from .models import CreditEntry, CreditKind, Order, OrderStatus, User


class CreditError(DomainError):
    """A credit adjustment refused; the message is for the office."""


def signed_cents():
    """SQL: a ledger line's amount, positive for a credit and negative for a debit (sum it for a balance)."""
    return case(
        (CreditEntry.kind == CreditKind.CREDIT.value, CreditEntry.amount_cents), else_=-CreditEntry.amount_cents
    )


def _balance_query(user_id):
    return select(func.coalesce(func.sum(signed_cents()), 0)).where(CreditEntry.user_id == user_id)


def _reserved_query(user_id, except_cart_id=None):
    query = select(func.coalesce(func.sum(Order.credit_cents), 0)).where(
        Order.user_id == user_id, Order.status == OrderStatus.PENDING.value
    )
    if except_cart_id is not None:
        query = query.where(Order.cart_id.is_distinct_from(except_cart_id))
    return query


def balance_cents(user_id):
    """A student's credit balance, summed in SQL."""
    return db.session.scalar(_balance_query(user_id))


def reserved_cents(user_id):
    """The credit the student's pending orders will debit once paid."""
    return db.session.scalar(_reserved_query(user_id))


def lock_ledger(user_id):
    """Make changes to one student's credit wait for each other (PostgreSQL row lock on the account).

    NO KEY UPDATE, the lock the database's own balance check takes too (models/credits.py): it does
    not wait for, nor block, the rows other transactions insert that refer to the account.
    """
    db.session.execute(select(User.id).where(User.id == user_id).with_for_update(key_share=True))


def available_cents(user_id, except_cart_id=None):
    """The balance less what the student's pending orders will debit once paid, in one statement.

    `except_cart_id`: the cart being checked out, whose pending order the new one replaces.
    Hold the ledger lock (`lock_ledger`) from this reading until commit to spend what it returns.
    """
    reserved = _reserved_query(user_id, except_cart_id).scalar_subquery()
    return db.session.scalar(select(_balance_query(user_id).scalar_subquery() - reserved))


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
    # Two debits submitted at once would each see the whole balance and take it twice.
    lock_ledger(student.id)
    before = balance_cents(student.id)
    if kind == CreditKind.DEBIT:
        available = available_cents(student.id)
        if amount_cents > available:
            raise CreditError(_debit_refusal(before, available))
    entry = add_entry(student.id, kind, amount_cents, reason, now, created_by_id=actor.id)
    after = before + amount_cents if kind == CreditKind.CREDIT else before - amount_cents
    audit.record(
        actor,
        "credit.adjusted",
        student,
        now,
        before={"solde_cents": before},
        after={"solde_cents": after, "operation": str(kind), "montant_cents": amount_cents, "motif": reason},
    )
    return entry


def _debit_refusal(balance, available):
    if available == balance:
        return f"Le solde de crédit n'est que de {money(balance)}."
    return (
        f"Le crédit disponible n'est que de {money(max(available, 0))} : {money(balance - available)} "
        "sont réservés par une commande en attente de paiement."
    )


def given_for_session(appointment):
    """What the ledger has credited the student for one session so far, less what it took back (cents)."""
    return db.session.scalar(
        select(func.coalesce(func.sum(signed_cents()), 0)).where(
            CreditEntry.appointment_id == appointment.id, CreditEntry.user_id == appointment.student_id
        )
    )


def history(user_id):
    """A student's ledger, newest first."""
    return db.session.scalars(
        select(CreditEntry)
        .where(CreditEntry.user_id == user_id)
        .order_by(CreditEntry.created_at.desc(), CreditEntry.id.desc())
    ).all()
