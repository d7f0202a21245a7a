"""Receipts: numbered « YYYY-NNNNN » without gaps within the local year of payment."""

from dataclasses import dataclass

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .extensions import db
from .localtime import to_local
from .models import (
    APPOINTMENT_STATUS_LABELS,
    REFUND_STATUS_LABELS,
    Order,
    OrderItem,
    OrderStatus,
    ReceiptCounter,
    RefundStatus,
)

#: Orders that took the student's money (or credit) and so have a receipt.
RECEIPT_STATUSES = (OrderStatus.PAID.value, OrderStatus.PARTIALLY_REFUNDED.value, OrderStatus.REFUNDED.value)


def _bump(year):
    """The counter's next number, or None if the year has no counter yet (the row stays locked until commit)."""
    return db.session.execute(
        update(ReceiptCounter)
        .where(ReceiptCounter.year == year)
        .values(last_number=ReceiptCounter.last_number + 1)
        .returning(ReceiptCounter.last_number)
        .execution_options(synchronize_session=False)
    ).scalar()


def assign_receipt_number(order, paid_at):
    """Give the order the next receipt number of the local year of `paid_at`; the caller commits.

    The UPDATE … RETURNING locks the year's counter until commit, so concurrent payments queue up and
    none shares or skips a number; a rolled-back payment rolls its number back with it.
    """
    if order.receipt_number:
        return order.receipt_number
    year = to_local(paid_at).year
    number = _bump(year)
    if number is None:
        try:
            # Another payment may create the year's counter at the same moment: then use theirs.
            with db.session.begin_nested():
                db.session.execute(insert(ReceiptCounter).values(year=year, last_number=0))
        except IntegrityError:
            pass
        number = _bump(year)
    order.receipt_number = f"{year}-{number:05d}"
    return order.receipt_number


def student_orders(user_id):
    """SQL: the student's paid orders (refunded ones too), newest first, each with its number of sessions."""
    sessions = select(func.count(OrderItem.id)).where(OrderItem.order_id == Order.id).correlate(Order).scalar_subquery()
    return (
        select(Order, sessions.label("sessions"))
        .where(Order.user_id == user_id, Order.status.in_(RECEIPT_STATUSES))
        .order_by(Order.paid_at.desc(), Order.id.desc())
    )


def student_order(user_id, order_id):
    """One of the student's orders that has a receipt (paid, even if refunded since), or None."""
    return db.session.scalar(
        select(Order)
        .where(Order.id == order_id, Order.user_id == user_id, Order.status.in_(RECEIPT_STATUSES))
        .options(
            selectinload(Order.items).selectinload(OrderItem.course),
            selectinload(Order.items).selectinload(OrderItem.tutor),
            selectinload(Order.items).selectinload(OrderItem.appointment),
            selectinload(Order.refunds),
            selectinload(Order.coupon),
        )
    )


def item_status(item):
    """How an order line ended up, in French: its session's status, or why it has none."""
    if item.appointment is not None:
        return APPOINTMENT_STATUS_LABELS.get(item.appointment.status, item.appointment.status)
    if item.flagged_at is not None:
        return "Remboursée (créneau non disponible)"
    return "Non réservée"


@dataclass(frozen=True)
class Statement:
    """What an order cost and how it was paid, and what came back to the card."""

    subtotal_cents: int
    discount_cents: int
    credit_cents: int
    card_cents: int
    refunded_cents: int
    pending_refund_cents: int
    balance_cents: int


def statement(order):
    """The order's amounts: subtotal, less coupon, less credit, paid by card, less refunds made."""
    refunded = sum(r.amount_cents for r in order.refunds if r.status == RefundStatus.SUCCEEDED)
    pending = sum(r.amount_cents for r in order.refunds if r.status == RefundStatus.PENDING)
    return Statement(
        subtotal_cents=order.subtotal_cents,
        discount_cents=order.discount_cents,
        credit_cents=order.credit_cents,
        card_cents=order.total_cents,
        refunded_cents=refunded,
        pending_refund_cents=pending,
        balance_cents=order.total_cents - refunded,
    )


def refund_status(refund):
    return REFUND_STATUS_LABELS.get(refund.status, refund.status)
