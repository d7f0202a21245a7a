"""A student's credit history: each ledger line with the balance it left, computed by the database."""

from sqlalchemy import func, select

from .credits import signed_cents
from .models import CreditEntry


def history_with_balance(user_id):
    """SQL: the student's ledger lines, newest first, each with its signed amount and the running balance after it.

    A window sum over the whole ledger in date order: the balance of a line does not depend on the page shown.
    """
    amount = signed_cents()
    lines = (
        select(
            CreditEntry.id,
            CreditEntry.created_at,
            CreditEntry.reason,
            CreditEntry.order_id,
            CreditEntry.appointment_id,
            amount.label("amount_cents"),
            func.sum(amount)
            .over(order_by=(CreditEntry.created_at, CreditEntry.id), rows=(None, 0))
            .label("balance_cents"),
        )
        .where(CreditEntry.user_id == user_id)
        .subquery()
    )
    return select(lines).order_by(lines.c.created_at.desc(), lines.c.id.desc())
